-- Keep the provider's generation id with a live reservation: if it expires unsettled,
-- reclaim hands the id on with it, so the ledger can still learn what the call was billed.
-- KEYS: [1] reservations by expiry (ZSET, unused here), [2] reservation records (HASH).
-- ARGV: [1] reservation id, [2] generation id. Returns 1 if the reservation was live.
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then
  return 0
end
local rec = cjson.decode(raw)
rec.g = ARGV[2]
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(rec))
return 1
