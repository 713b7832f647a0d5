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

local docs, recorded, bytes = {}, {}, 0
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local b = 2 + i * 9
  if redis.call('HSETNX', KEYS[1], ARGV[b], ARGV[b + 1]) == 1 then
    docs[#docs + 1] = ARGV[b + 2]
    bytes = bytes + #ARGV[b + 2]
    recorded[#recorded + 1] = ARGV[b]
    if ARGV[b + 3] == '1' then
      redis.call('HINCRBY', KEYS[2], 'success', 1)
      if ARGV[b + 6] == '1' then
        redis.call('HINCRBY', KEYS[2], 'errors', 1)
      end
    else
      redis.call('HINCRBY', KEYS[2], 'failed', 1)
    end
    redis.call('HINCRBY', KEYS[2], 'unknown', ARGV[b + 4])
    redis.call('HINCRBY', KEYS[2], 'files', ARGV[b + 5])
    if ARGV[b + 7] == '1' then
      redis.call('HINCRBY', KEYS[2], 'carried', 1)
    end
    local m = cjson.decode(ARGV[b + 8])
    for _, t in ipairs(m.t) do
      redis.call('HINCRBY', KEYS[5], t[1] .. ':files', t[2])
      redis.call('HINCRBYFLOAT', KEYS[5], t[1] .. ':seconds', t[3])
    end
    for _, e in ipairs(m.e) do redis.call('HINCRBY', KEYS[6], e[1], e[2]) end
  end
end
if #docs > 0 then
  local at = redis.call('XADD', KEYS[3], '*', 'docs', '[' .. table.concat(docs, ',') .. ']',
    'n', #docs)
  for _, fid in ipairs(recorded) do redis.call('HSET', KEYS[4], fid, at) end
  redis.call('HINCRBY', KEYS[2], 'bytes', bytes)
end
recorded[#recorded + 1] = tostring(bytes)
return recorded
