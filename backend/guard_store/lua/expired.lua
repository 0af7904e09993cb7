-- Reclaim expired reservations, then hand over the oldest of those that expired unsettled.
-- KEYS: [1] reservations by expiry (ZSET), [2] reservation records (HASH),
--       [3] the expired reservations' log (LIST of JSON {id, a, n, g, t}).
-- ARGV: [1] how many to hand over. Returns the JSON entries, oldest first.
reclaim(KEYS[1], KEYS[2], now_ms())
local taken = redis.call('LPOP', KEYS[3], tonumber(ARGV[1]))
if not taken then
  return {}
end
return taken
