-- GCRA in one atomic step; the Rust twin is `gcra.rs` (same integer microseconds, same answers).
-- KEYS[1]: the bucket key. ARGV[1]: limit. ARGV[2]: emission interval in microseconds.
-- Returns {allowed (0|1), limit, remaining, reset_us, retry_after_us}.
-- The clock is Redis's own (TIME), so every Campus instance measures against one clock.
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local capacity = interval * limit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  tat = math.max(tonumber(stored), now)
end
local new_tat = tat + interval
if new_tat - now > capacity then
  return {0, limit, 0, tat - now, new_tat - now - capacity}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ttl_ms)
local remaining = math.floor((capacity - (new_tat - now)) / interval)
return {1, limit, remaining, new_tat - now, 0}
