-- rate_take: take one request from an owner's shared token bucket, or say how long to
-- wait. The bucket refills at its current rate (at most ARGV[1] requests/s) up to
-- ARGV[2]; after a slow-down (rate_slow) the rate climbs back by a fiftieth of the
-- configured rate per request granted, up to the ceiling the last 429 left (which
-- itself creeps up by 0.2% per request granted, so the old limit is probed again
-- after a few hundred requests, and a raised one is found).
-- Time is the Redis server's, so every worker on every host shares one clock.
-- KEYS[1] owner:{owner}:globus_rate  hash: tokens, at, rate, paused_until, ceiling
-- ARGV[1] the configured rate (requests per second)
-- ARGV[2] the burst (most requests taken at once)
-- returns milliseconds to wait before asking again (0: a request was granted)

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local top, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'rate', 'paused_until', 'ceiling')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
local rate = math.min(tonumber(b[3]) or top, top)
local paused = tonumber(b[4]) or 0
local ceiling = math.min(tonumber(b[5]) or top, top)
if now < paused then return math.ceil((paused - now) * 1000) end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  ceiling = math.min(top, ceiling * 1.002)
  rate = math.min(ceiling, rate + top / 50)
else
  wait = math.max(1, math.ceil((1 - tokens) / rate * 1000))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now),
  'rate', tostring(rate), 'ceiling', tostring(ceiling))
redis.call('EXPIRE', KEYS[1], 3600)
return wait
