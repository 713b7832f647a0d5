-- crawl_stop: end a crawl that has not ended yet (cancelled or failed); returns 1 if
-- it was stopped now, 0 if it had already ended (the caller takes it off the
-- service-wide `crawls:active` set either way).
-- KEYS[1] crawl:{id}           hash: status
-- KEYS[2] crawl:{id}:dirs      stream: the frontier (deleted)
-- KEYS[3] crawl:{id}:secrets   hash: credentials (deleted)
-- ARGV[1] the status to end with
-- ARGV[2] the message
-- ARGV[3] now (seconds)
-- ARGV[4..] the terminal statuses

local status = redis.call('HGET', KEYS[1], 'status')
for i = 4, #ARGV do
  if status == ARGV[i] then return 0 end
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'message', ARGV[2], 'finished_at', ARGV[3])
redis.call('DEL', KEYS[2], KEYS[3])
return 1
