-- Reserve one call's worst case against every bucket at once: all or nothing.
--
-- KEYS: [1] reservations by expiry (ZSET), [2] reservation records (HASH),
--       [3 .. 2+nb] bucket hashes, then, when used, the concurrency counter,
--       the rate key and the day index (SET of the day's bucket keys, for archiving).
-- ARGV: [1] reservation id, [2] amount, [3] ttl ms, [4] nb, [5] concurrency limit
--       (-1: none), [6] rate limit (-1: none), [7] rate window ms, [8] day index ttl ms
--       (0: none), then per bucket: limit (-1: none), soft limit (-1: none), ttl ms, window;
--       last, the reservation's note (handed back if it expires unsettled).
-- Returns {ok, failure, key, used, limit, retry_after_ms, crossed soft limits}.

local zset, data = KEYS[1], KEYS[2]
local id, amount, ttl_ms, nb = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local conc_limit, rate_limit = tonumber(ARGV[5]), tonumber(ARGV[6])
local rate_window, day_ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local now = now_ms()
reclaim(zset, data, now)

-- A retried call (the reply was lost on the network) must not hold twice.
if redis.call('HEXISTS', data, id) == 1 then
  return {1, '', '', 0, 0, 0, {}}
end

local k = 2 + nb
local conc_key, rate_key, day_key
if conc_limit >= 0 then k = k + 1; conc_key = KEYS[k] end
if rate_limit > 0 then k = k + 1; rate_key = KEYS[k] end
if day_ttl > 0 then k = k + 1; day_key = KEYS[k] end

-- Decide everything before writing anything.
local new_tat
if rate_key then
  -- GCRA: a burst of rate_limit, then one every window/limit; never 2x across a boundary.
  local tat = tonumber(redis.call('GET', rate_key) or '0')
  new_tat = math.max(tat, now) + rate_window / rate_limit
  local allow_at = new_tat - rate_window
  if now < allow_at then
    return {0, 'rate', rate_key, 0, rate_limit, math.ceil(allow_at - now), {}}
  end
end
if conc_key then
  local in_flight = tonumber(redis.call('GET', conc_key) or '0')
  if in_flight + 1 > conc_limit then
    return {0, 'concurrency', conc_key, in_flight, conc_limit, 0, {}}
  end
end
local need = tonumber(amount)
local current = {}
for i = 1, nb do
  -- One read per bucket serves the decision, the soft-limit check and the writes below.
  local v = redis.call('HMGET', KEYS[2 + i], 'spent', 'held', 'limit', 'soft', 'window')
  current[i] = v
  local limit = tonumber(ARGV[8 + (i - 1) * 4 + 1])
  if limit >= 0 then
    local used = tonumber(v[1] or '0') + tonumber(v[2] or '0')
    if used + need > limit then
      return {0, 'budget', KEYS[2 + i], used, limit, 0, {}}
    end
  end
end

-- Commit.
if rate_key then
  redis.call('SET', rate_key, string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
end
if conc_key then
  redis.call('INCR', conc_key)
  -- Every live reservation expires within ttl, so the counter may go a little after.
  redis.call('PEXPIRE', conc_key, ttl_ms + 60000)
end
local crossed, held_keys, windowed = {}, {}, {}
for i = 1, nb do
  local key, base, v = KEYS[2 + i], 8 + (i - 1) * 4, current[i]
  local limit, soft, window = ARGV[base + 1], ARGV[base + 2], ARGV[base + 4]
  local held = redis.call('HINCRBY', key, 'held', amount)
  -- Write the bucket's settings only when they change (a new bucket or new limits).
  if v[3] ~= limit or v[4] ~= soft or (v[5] or '') ~= window then
    redis.call('HSET', key, 'limit', limit, 'soft', soft, 'window', window)
    if window ~= '' and v[5] == false then windowed[#windowed + 1] = key end
  end
  -- Daily TTLs end at the same instant whichever write sets them; a session's moves on.
  redis.call('PEXPIRE', key, ARGV[base + 3])
  local spent = tonumber(v[1] or '0')
  if crossed_soft(key, tonumber(soft), spent + held) then
    crossed[#crossed + 1] = {key, spent, held, tonumber(limit)}
  end
  held_keys[i] = key
end
if day_key and #windowed > 0 then
  -- Only new buckets join the day's index; the ones already in it are there.
  redis.call('SADD', day_key, unpack(windowed))
  redis.call('PEXPIRE', day_key, day_ttl)
end
local note = ARGV[8 + nb * 4 + 1] or ''
redis.call('HSET', data, id, cjson.encode({a = amount, b = held_keys, c = conc_key or '', n = note}))
redis.call('ZADD', zset, now + ttl_ms, id)
return {1, '', '', 0, 0, 0, crossed}
