-- crawl_commit: write everything one listed frontier entry produced, atomically.
-- Acknowledges the entry first: if another worker already did (a redelivered entry
-- listed twice), nothing is written and -1 is returned. Otherwise returns the number
-- of directories still pending; at 0 the crawl is marked done, or failed when it found
-- no file and could read none of its folders (the caller then takes it off the
-- service-wide `crawls:active` set: a script writes only its crawl's slot).
-- KEYS[1] crawl:{id}           hash: status and counters
-- KEYS[2] crawl:{id}:dirs      stream: the frontier
-- KEYS[3] crawl:{id}:families  stream: family blocks
-- KEYS[4] crawl:{id}:errors    list: newest errors
-- KEYS[5] crawl:{id}:seen      set: directories ever queued
-- KEYS[6] crawl:{id}:workers   hash: directories listed per worker
-- KEYS[7] crawl:{id}:secrets   hash: credentials, deleted when the crawl ends
-- KEYS[8] crawl:{id}:index     hash: listed folder -> its files and sub-folders
-- KEYS[9] crawl:{id}:changes  stream: a since crawl's added, changed, removed paths
-- KEYS[10] crawl:{id}:levels   hash: per depth, folders listed and what they held
-- ARGV[1] the frontier entry id
-- ARGV[2] the listing, JSON: {group, crawl_id, worker, now, done, files, bytes, groups,
--         families, links_skipped, unreadable, subdirs: [[key, dir]], per_entry, errors,
--         error_cap, spread (new entries hold at most per_entry directories, and
--         fewer while the frontier has under spread entries' worth),
--         words: {new, running, done, failed}, added, changed, removed, unchanged,
--         extra (folders a walker listed beyond the entry's, never queued),
--         levels: [[depth, listed, subdirs, files, bytes, squares]]}
-- ARGV[3] the changed paths, JSON {added, changed, removed}, or '' (none)
-- ARGV[4] how many index fields follow (k)
-- ARGV[5..4+2k] index fields as (folder, JSON) pairs
-- ARGV[5+2k..] family blocks as (JSON payload, file count) pairs

local c = cjson.decode(ARGV[2])
if redis.call('XACK', KEYS[2], c.group, ARGV[1]) == 0 then return -1 end
redis.call('XDEL', KEYS[2], ARGV[1])
local status = redis.call('HGET', KEYS[1], 'status')
if status == c.words.new then
  redis.call('HSET', KEYS[1], 'status', c.words.running, 'started_at', c.now)
  status = c.words.running
end
if status ~= c.words.running then
  return redis.call('HINCRBY', KEYS[1], 'dirs_pending', -c.done)
end
for _, d in ipairs(c.extra) do redis.call('SADD', KEYS[5], d) end
local chunk, added, revisited = {}, 0, 0
local queued = tonumber(redis.call('HGET', KEYS[1], 'dirs_pending') or '0') + #c.subdirs
local per = math.max(1, math.min(c.per_entry, math.floor(queued / c.spread)))
for _, pair in ipairs(c.subdirs) do
  if redis.call('SADD', KEYS[5], pair[1]) == 1 then
    chunk[#chunk + 1] = pair[2]
    added = added + 1
    if #chunk >= per then
      redis.call('XADD', KEYS[2], '*', 'dirs', cjson.encode(chunk))
      chunk = {}
    end
  else
    revisited = revisited + 1
  end
end
if #chunk > 0 then redis.call('XADD', KEYS[2], '*', 'dirs', cjson.encode(chunk)) end
redis.call('HINCRBY', KEYS[1], 'dirs_pending', added)
redis.call('HINCRBY', KEYS[6], c.worker, c.done)
local k = tonumber(ARGV[4])
for i = 5, 4 + 2 * k, 2 do
  redis.call('HSET', KEYS[8], ARGV[i], ARGV[i + 1])
end
for i = 5 + 2 * k, #ARGV, 2 do
  redis.call('XADD', KEYS[3], '*', 'families', ARGV[i], 'n', ARGV[i + 1])
end
if ARGV[3] ~= '' then redis.call('XADD', KEYS[9], '*', 'paths', ARGV[3]) end
for _, lv in ipairs(c.levels) do
  for j, name in ipairs({'listed', 'subdirs', 'files', 'bytes', 'squares'}) do
    redis.call('HINCRBY', KEYS[10], lv[1] .. ':' .. name, lv[j + 1])
  end
end
for _, name in ipairs({'files', 'bytes', 'groups', 'families', 'links_skipped',
                       'added', 'changed', 'removed', 'unchanged'}) do
  redis.call('HINCRBY', KEYS[1], name, c[name])
end
redis.call('HINCRBY', KEYS[1], 'dirs_revisited', revisited)
redis.call('HINCRBY', KEYS[1], 'dirs_unreadable', c.unreadable)
redis.call('HINCRBY', KEYS[1], 'dirs_done', c.done + #c.extra)
if #c.errors > 0 then
  redis.call('HINCRBY', KEYS[1], 'errors', #c.errors)
  for _, e in ipairs(c.errors) do redis.call('LPUSH', KEYS[4], cjson.encode(e)) end
  redis.call('LTRIM', KEYS[4], 0, c.error_cap - 1)
end
local pending = redis.call('HINCRBY', KEYS[1], 'dirs_pending', -c.done)
if pending <= 0 then
  local found = tonumber(redis.call('HGET', KEYS[1], 'files') or '0')
  local failed = tonumber(redis.call('HGET', KEYS[1], 'dirs_unreadable') or '0')
  local listed = tonumber(redis.call('HGET', KEYS[1], 'dirs_done') or '0')
  if found == 0 and failed >= listed then
    redis.call('HSET', KEYS[1], 'status', c.words.failed, 'finished_at', c.now,
      'message', 'no folder of the crawl could be read; see data.error_samples')
  else
    redis.call('HSET', KEYS[1], 'status', c.words.done, 'finished_at', c.now, 'message', 'OK')
  end
  redis.call('DEL', KEYS[7])
end
return pending
