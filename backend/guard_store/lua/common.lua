-- Shared head of every guard script; redis_store.py prepends it to each script body.
--
-- All amounts are integer micro-dollars. They are passed and stored as decimal strings
-- and only turned into Lua numbers (doubles, exact below 2^53) for comparisons.
-- Times are Redis server milliseconds (TIME), never a client's clock: every process
-- then agrees on when a reservation expires, however skewed their clocks are.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Give back what a reservation held: its amount in each bucket and its concurrency slot.
local function release_hold(rec)
  if tonumber(rec.a) > 0 then
    for _, key in ipairs(rec.b) do
      -- A bucket that already expired stays gone; recreating it would leak a key with no TTL.
      if redis.call('EXISTS', key) == 1 then
        if redis.call('HINCRBY', key, 'held', '-' .. rec.a) < 0 then
          redis.call('HSET', key, 'held', '0')
        end
      end
    end
  end
  if rec.c ~= '' and redis.call('EXISTS', rec.c) == 1 then
    if redis.call('DECR', rec.c) <= 0 then
      redis.call('DEL', rec.c)
    end
  end
end

-- Release reservations whose holder never settled (crashed, SIGKILLed, lost the reply).
-- At most 64 per call keeps each script short; any rest go on the next call.
local function reclaim(zset, data, now)
  local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'LIMIT', 0, 64)
  for _, id in ipairs(expired) do
    local raw = redis.call('HGET', data, id)
    if raw then
      release_hold(cjson.decode(raw))
      redis.call('HDEL', data, id)
    end
    redis.call('ZREM', zset, id)
  end
end

-- Extend a key's life to at least ttl_ms from now; never shorten it.
local function keep_alive(key, ttl_ms)
  if redis.call('PTTL', key) < tonumber(ttl_ms) then
    redis.call('PEXPIRE', key, ttl_ms)
  end
end

-- Mark a bucket's soft limit as reported; true only for the first caller in its window
-- (the flag lives in the bucket hash, so it expires with the window).
local function first_soft_crossing(key, spent, held)
  local soft = tonumber(redis.call('HGET', key, 'soft') or '-1')
  if soft >= 0 and spent + held >= soft then
    return redis.call('HSETNX', key, 'warned', '1') == 1
  end
  return false
end

local function usage_of(key)
  local v = redis.call('HMGET', key, 'spent', 'held', 'limit')
  return {key, tonumber(v[1] or '0'), tonumber(v[2] or '0'), tonumber(v[3] or '-1')}
end
