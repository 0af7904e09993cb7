-- Take one token from a GCRA rate limiter (see reserve.lua).
-- KEYS: [1] rate key. ARGV: [1] limit, [2] window ms. Returns {allowed, retry_after_ms}.
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = now_ms()
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local new_tat = math.max(tat, now) + window / limit
local allow_at = new_tat - window
if now < allow_at then
  return {0, math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return {1, 0}
