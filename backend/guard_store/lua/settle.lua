-- Settle a reservation: release its hold, record the actual cost. Idempotent.
--
-- KEYS: [1] reservations by expiry (ZSET), [2] reservation records (HASH),
--       [3] this reservation's "settled" marker, [4 .. 3+nb] buckets to charge.
-- ARGV: [1] reservation id, [2] actual cost, [3] marker ttl ms, [4] nb,
--       then per bucket: limit (-1: none), soft limit (-1: none), ttl ms, window.
-- Returns {status, per-bucket usage after, crossed soft limits}.

local zset, data, done = KEYS[1], KEYS[2], KEYS[3]
local id, actual, nb = ARGV[1], ARGV[2], tonumber(ARGV[4])
reclaim(zset, data, now_ms())

if redis.call('EXISTS', done) == 1 then
  local out = {}
  for i = 1, nb do out[i] = usage_of(KEYS[3 + i]) end
  return {'duplicate', out, {}}
end
redis.call('SET', done, actual, 'PX', ARGV[3])

local status, record_keys = 'late', {}
local raw = redis.call('HGET', data, id)
if raw then
  -- Live: give back the whole hold. Expired ones were given back by reclaim already,
  -- so a late settle only records the cost (no double release).
  local rec = cjson.decode(raw)
  release_hold(rec)
  redis.call('HDEL', data, id)
  redis.call('ZREM', zset, id)
  status, record_keys = 'settled', rec.b
end

-- Charge the caller's buckets (with their specs); without any, the ones the record held.
local targets = {}
if nb > 0 then
  for i = 1, nb do targets[i] = KEYS[3 + i] end
else
  for i, key in ipairs(record_keys) do
    if redis.call('EXISTS', key) == 1 then targets[#targets + 1] = key end
  end
end

local out, crossed = {}, {}
for i, key in ipairs(targets) do
  local spent = redis.call('HINCRBY', key, 'spent', actual)
  if nb > 0 then
    local base = 4 + (i - 1) * 4
    redis.call('HSET', key, 'limit', ARGV[base + 1], 'soft', ARGV[base + 2])
    if ARGV[base + 4] ~= '' then redis.call('HSET', key, 'window', ARGV[base + 4]) end
    keep_alive(key, ARGV[base + 3])
  end
  local usage = usage_of(key)
  out[#out + 1] = usage
  if first_soft_crossing(key, spent, usage[3]) then crossed[#crossed + 1] = usage end
end
return {status, out, crossed}
