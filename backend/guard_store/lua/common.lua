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

-- Integer micro-dollars as a decimal string (tostring would write 1e+15).
local function int_text(n)
  return string.format('%.0f', n)
end

-- The key prefix, from the reservations ZSET's key ("<prefix>res:exp").
local function prefix_of(zset)
  return string.sub(zset, 1, #zset - #'res:exp')
end

-- How long an expired reservation's charge is remembered for a late settle (1 day).
local EXPIRED_MEMORY_MS = 86400000
-- Expired reservations kept for the ledger sweeper (drain_expired); older ones drop off.
local EXPIRED_LOG_MAX = 10000

-- Reservations whose holder never settled (crashed, SIGKILLed, lost the reply): release
-- the slot and the hold, and record the hold as spent, since the provider may bill the
-- call though nobody is left to report it. The charge and its buckets are remembered
-- (x:<id>, JSON {a, b}) so a late settle records only the difference, and the reservation
-- is queued for the ledger with its note and the generation id its holder noted (g).
-- At most 64 per call keeps each script short; any rest go on the next call.
local function reclaim(zset, data, now)
  local expired = redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 64)
  local prefix = nil
  for i = 1, #expired, 2 do
    local id, expired_at = expired[i], expired[i + 1]
    local raw = redis.call('HGET', data, id)
    if raw then
      local rec = cjson.decode(raw)
      release_hold(rec)
      if tonumber(rec.a) > 0 then
        for _, key in ipairs(rec.b) do
          if redis.call('EXISTS', key) == 1 then
            redis.call('HINCRBY', key, 'spent', rec.a)
          end
        end
        prefix = prefix or prefix_of(zset)
        redis.call('SET', prefix .. 'x:' .. id, cjson.encode({a = rec.a, b = rec.b}), 'PX', EXPIRED_MEMORY_MS)
        local log = prefix .. 'res:expired'
        redis.call('RPUSH', log, cjson.encode({
          id = id, a = rec.a, n = rec.n or '', g = rec.g or '', t = tonumber(expired_at),
        }))
        redis.call('LTRIM', log, -EXPIRED_LOG_MAX, -1)
      end
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
