-- xtract_advance: move an extraction's status forward (never back); returns 1 if it
-- moved.
-- KEYS[1] crawl:{id}:xtract    hash: status
-- ARGV[1] the status to move to
-- ARGV[2..] every status, in order

local now = redis.call('HGET', KEYS[1], 'status')
local rank = {}
for i = 2, #ARGV do rank[ARGV[i]] = i end
if now == false or rank[now] == nil or rank[ARGV[1]] > rank[now] then
  redis.call('HSET', KEYS[1], 'status', ARGV[1])
  return 1
end
return 0
