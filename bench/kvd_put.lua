-- wrk script: PUT /v1/kv/key:N with a 100-byte value, N uniformly random in
-- [0, KEYS). Used by bench/kvd_vs_redis.sh; prints one RESULT line.
local keys = tonumber(os.getenv("KV_BENCH_KEYS") or "100000")
local value = string.rep("v", tonumber(os.getenv("KV_BENCH_VALUE_BYTES") or "100"))
local headers = { ["Content-Type"] = "application/octet-stream" }

function init(args)
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6) + math.random(1, 1e6))
end

function request()
  return wrk.format("PUT", "/v1/kv/key:" .. math.random(0, keys - 1), headers, value)
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  io.write(string.format("RESULT ops=%.0f p99_ms=%.3f p50_ms=%.3f non2xx=%d errors=%d\n",
    summary.requests / seconds, latency:percentile(99) / 1000, latency:percentile(50) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
