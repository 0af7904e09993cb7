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
  if rec.c ~= '' and redis.call('DECR', rec.c) <= 0 then
    redis.call('DEL', rec.c)  -- also removes a counter a DECR on a missing key created
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

-- True only for the first write that takes a bucket to its soft limit in its window
-- (the flag lives in the bucket hash, so it expires with the window).
local function crossed_soft(key, soft, used)
  if soft >= 0 and used >= soft then
    return redis.call('HSETNX', key, 'warned', '1') == 1
  end
  return false
end
