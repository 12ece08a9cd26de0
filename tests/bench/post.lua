-- wrk script for the benchmark: POST the Claude-Code-like body from $CCF_BENCH_BODY
-- to /v1/messages and print one machine-readable summary line at the end.
-- No per-request Lua callbacks (request/response), so wrk's own cost stays minimal.

local path = assert(os.getenv("CCF_BENCH_BODY"), "CCF_BENCH_BODY is not set")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.path = "/v1/messages"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["anthropic-version"] = "2023-06-01"
wrk.headers["anthropic-beta"] = "claude-code-20250219,interleaved-thinking-2025-05-14"
wrk.headers["x-api-key"] = "sk-ant-bench-not-a-real-key"
wrk.headers["User-Agent"] = "claude-cli/2.0.0 (external, cli)"
wrk.headers["Accept"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_status":%d,' ..
    '"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"mean_us":%.2f,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max))
end
