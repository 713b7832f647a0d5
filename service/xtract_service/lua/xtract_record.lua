-- xtract_record: record a batch of family documents exactly once. A family's state is
-- set with HSETNX; only families set now have their documents added to the results
-- stream and counted, so a batch delivered twice is recorded once. Returns the ids
-- recorded now, then the bytes of their documents (the caller adds those to the
-- owner's usage: a script writes only its crawl's slot).
-- KEYS[1] crawl:{id}:fstate    hash: family id -> state
-- KEYS[2] crawl:{id}:xtract    hash: counters
-- KEYS[3] crawl:{id}:results   stream: documents
-- KEYS[4] crawl:{id}:docat     hash: family id -> results entry of its document
-- KEYS[5] crawl:{id}:xtract:rates  hash: files and seconds recorded per extractor
-- KEYS[6] crawl:{id}:xtract:errors hash: error records per kind
-- ARGV[1] how many families follow (n)
-- ARGV[2..] per family, nine values: id, state JSON, document JSON, ok (1 or 0),
--         files flagged unknown, files, with an extractor error (1 or 0),
--         carried forward from an earlier crawl (1 or 0), and JSON {t: extractor
--         timings [[name, files, seconds]] (none for a carried family), e: [[error
--         kind, records]]}

-- The counters, rates and error kinds are summed here and written once per batch (one
-- command per field, not per family: most of this script's cost was those calls).

local docs, recorded, bytes = {}, {}, 0
local counts = {success = 0, errors = 0, failed = 0, unknown = 0, files = 0, carried = 0}
local rates, kinds = {}, {}
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local b = 2 + i * 9
  if redis.call('HSETNX', KEYS[1], ARGV[b], ARGV[b + 1]) == 1 then
    docs[#docs + 1] = ARGV[b + 2]
    bytes = bytes + #ARGV[b + 2]
    recorded[#recorded + 1] = ARGV[b]
    if ARGV[b + 3] == '1' then
      counts.success = counts.success + 1
      if ARGV[b + 6] == '1' then counts.errors = counts.errors + 1 end
    else
      counts.failed = counts.failed + 1
    end
    counts.unknown = counts.unknown + tonumber(ARGV[b + 4])
    counts.files = counts.files + tonumber(ARGV[b + 5])
    if ARGV[b + 7] == '1' then counts.carried = counts.carried + 1 end
    local m = cjson.decode(ARGV[b + 8])
    for _, t in ipairs(m.t) do
      local r = rates[t[1]] or {0, 0}
      rates[t[1]] = {r[1] + t[2], r[2] + t[3]}
    end
    for _, e in ipairs(m.e) do kinds[e[1]] = (kinds[e[1]] or 0) + e[2] end
  end
end
if #docs > 0 then
  for field, v in pairs(counts) do
    if v ~= 0 then redis.call('HINCRBY', KEYS[2], field, v) end
  end
  for name, r in pairs(rates) do
    redis.call('HINCRBY', KEYS[5], name .. ':files', r[1])
    redis.call('HINCRBYFLOAT', KEYS[5], name .. ':seconds', string.format('%.17g', r[2]))
  end
  for kind, v in pairs(kinds) do redis.call('HINCRBY', KEYS[6], kind, v) end
  local at = redis.call('XADD', KEYS[3], '*', 'docs', '[' .. table.concat(docs, ',') .. ']',
    'n', #docs)
  local where = {}
  for j, fid in ipairs(recorded) do
    where[#where + 1] = fid
    where[#where + 1] = at
    if j % 500 == 0 or j == #recorded then  -- (unpack's arguments are bounded)
      redis.call('HSET', KEYS[4], unpack(where))
      where = {}
    end
  end
  redis.call('HINCRBY', KEYS[2], 'bytes', bytes)
end
recorded[#recorded + 1] = tostring(bytes)
return recorded
