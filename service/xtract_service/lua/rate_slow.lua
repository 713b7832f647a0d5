-- rate_slow: a 429 came back: every worker of the owner pauses, the rate halves (not
-- below ARGV[3]), and the ceiling it climbs back to becomes 90% of the rate that was
-- refused. The 429s of one burst arrive together: while the bucket is paused already,
-- another one only lengthens the pause, so they slow it down once.
-- KEYS[1] owner:{owner}:globus_rate  hash: tokens, at, rate, paused_until, ceiling
-- ARGV[1] seconds to pause (the response's Retry-After; at least one request's time)
-- ARGV[2] the configured rate (requests per second)
-- ARGV[3] the lowest rate
-- returns the new rate, as text

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local top, floor = tonumber(ARGV[2]), tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 'rate', 'paused_until', 'ceiling')
local rate = math.min(tonumber(b[1]) or top, top)
local paused = tonumber(b[2]) or 0
local ceiling = math.min(tonumber(b[3]) or top, top)
if paused <= now then
  ceiling = math.max(floor, rate * 0.9)
  rate = math.max(floor, rate / 2)
end
local until_ = math.max(paused, now + math.max(tonumber(ARGV[1]), 1 / rate))
redis.call('HSET', KEYS[1], 'rate', tostring(rate), 'paused_until', tostring(until_),
  'tokens', '0', 'at', tostring(now), 'ceiling', tostring(ceiling))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(rate)
