-- Settle a reservation: release its hold, record the actual cost. Idempotent.
-- A reservation that expired unsettled was charged its amount then (see reclaim): a late
-- settle records the difference, in the buckets it held then if the caller names none. A negative cost under a fresh id is a correction: it
-- lowers what existing buckets spent (never below zero) and creates no bucket.
--
-- KEYS: [1] reservations by expiry (ZSET), [2] reservation records (HASH),
--       [3] this reservation's "settled" marker, [4 .. 3+nb] buckets to charge,
--       then, when some bucket is daily, the day index (SET of the day's bucket keys).
-- ARGV: [1] reservation id, [2] actual cost, [3] marker ttl ms, [4] nb,
--       then per bucket: limit (-1: none), soft limit (-1: none), ttl ms, window.
-- Returns {status, per-bucket {key, spent, held, limit} after, crossed soft limits}.

local zset, data, done = KEYS[1], KEYS[2], KEYS[3]
local id, actual, nb = ARGV[1], ARGV[2], tonumber(ARGV[4])
local day_key = KEYS[4 + nb]
reclaim(zset, data, now_ms())

if redis.call('EXISTS', done) == 1 then
  local out = {}
  for i = 1, nb do
    local v = redis.call('HMGET', KEYS[3 + i], 'spent', 'held')
    out[i] = {KEYS[3 + i], tonumber(v[1] or '0'), tonumber(v[2] or '0'), tonumber(ARGV[4 + (i - 1) * 4 + 1])}
  end
  return {'duplicate', out, {}}
end
redis.call('SET', done, actual, 'PX', ARGV[3])

-- Live: give back the whole hold. An expired one was given back (and its amount charged)
-- by reclaim already, so a late settle records only the difference (no double release).
local status, rec, expired_keys = 'late', nil, {}
local raw = redis.call('HGET', data, id)
if raw then
  rec = cjson.decode(raw)
  redis.call('HDEL', data, id)
  redis.call('ZREM', zset, id)
  status = 'settled'
else
  local expired_key = prefix_of(zset) .. 'x:' .. id
  local expired_charge = redis.call('GET', expired_key)
  if expired_charge then
    local charged = expired_charge
    -- JSON {a, b}; a bare amount from before the buckets were kept with it.
    if string.sub(expired_charge, 1, 1) == '{' then
      local x = cjson.decode(expired_charge)
      charged, expired_keys = x.a, x.b
    end
    actual = int_text(tonumber(actual) - tonumber(charged))
    redis.call('DEL', expired_key)
  end
end
local amount_now = tonumber(actual)

local out, crossed, charged = {}, {}, {}
if nb == 0 and rec then
  -- No specs from the caller: charge what the record held (existing buckets only).
  if rec.c ~= '' and redis.call('DECR', rec.c) <= 0 then redis.call('DEL', rec.c) end
  local amount = tonumber(rec.a)
  for _, key in ipairs(rec.b) do
    if redis.call('EXISTS', key) == 1 then
      local held = redis.call('HINCRBY', key, 'held', -amount)
      if held < 0 then redis.call('HSET', key, 'held', '0'); held = 0 end
      local spent = redis.call('HINCRBY', key, 'spent', actual)
      out[#out + 1] = {key, spent, held, tonumber(redis.call('HGET', key, 'limit') or '-1')}
    end
  end
  return {status, out, crossed}
end
if nb == 0 then
  -- No specs from the caller, and the reservation expired: the difference goes to the
  -- buckets it was charged then (existing ones only; a correction, usually downwards).
  for _, key in ipairs(expired_keys) do
    if redis.call('EXISTS', key) == 1 then
      local spent = redis.call('HINCRBY', key, 'spent', actual)
      if spent < 0 then
        redis.call('HSET', key, 'spent', '0')
        spent = 0
      end
      local v = redis.call('HMGET', key, 'held', 'limit', 'soft')
      local held = tonumber(v[1] or '0')
      local usage = {key, spent, held, tonumber(v[2] or '-1')}
      out[#out + 1] = usage
      if crossed_soft(key, tonumber(v[3] or '-1'), spent + held) then
        crossed[#crossed + 1] = usage
      end
    end
  end
  return {status, out, crossed}
end

local release = 0
if rec then
  if rec.c ~= '' and redis.call('DECR', rec.c) <= 0 then redis.call('DEL', rec.c) end
  release = tonumber(rec.a)
  for _, key in ipairs(rec.b) do charged[key] = false end
end
for i = 1, nb do
  local key, base = KEYS[3 + i], 4 + (i - 1) * 4
  -- A correction downwards (negative cost) creates no bucket.
  if amount_now >= 0 or redis.call('EXISTS', key) == 1 then
    local held
    if release > 0 and charged[key] == false then
      held = redis.call('HINCRBY', key, 'held', -release)
      if held < 0 then  -- the bucket had expired and was recreated by this write
        redis.call('HSET', key, 'held', '0')
        held = 0
      end
    else
      held = tonumber(redis.call('HGET', key, 'held') or '0')
    end
    charged[key] = true
    local spent = redis.call('HINCRBY', key, 'spent', actual)
    if spent < 0 then
      redis.call('HSET', key, 'spent', '0')
      spent = 0
    end
    if amount_now >= 0 and spent == amount_now then  -- first money in this bucket: it may be new
      redis.call('HSET', key, 'limit', ARGV[base + 1], 'soft', ARGV[base + 2], 'window', ARGV[base + 4])
      if day_key and ARGV[base + 4] ~= '' then
        redis.call('SADD', day_key, key)
        redis.call('PEXPIRE', day_key, ARGV[base + 3])
      end
    end
    redis.call('PEXPIRE', key, ARGV[base + 3])
    local usage = {key, spent, held, tonumber(ARGV[base + 1])}
    out[#out + 1] = usage
    if crossed_soft(key, tonumber(ARGV[base + 2]), spent + held) then
      crossed[#crossed + 1] = usage
    end
  end
end
-- Buckets the record held but the caller did not name (not expected): release only.
if rec and release > 0 then
  for key, done_with in pairs(charged) do
    if not done_with and redis.call('EXISTS', key) == 1 then
      if redis.call('HINCRBY', key, 'held', -release) < 0 then redis.call('HSET', key, 'held', '0') end
    end
  end
end
return {status, out, crossed}
