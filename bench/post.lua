-- wrk script: POST /v1/orders, a fresh Idempotency-Key per request (every request creates).
local counter = 0
local run = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
local auth = os.getenv("AUTH_HEADER")
local body = '{"currency":"JPY","external_reference":"BENCH","lines":[' ..
  '{"sku":"SKU-1","quantity":2,"unit_price":"1200"},' ..
  '{"sku":"SKU-2","quantity":1,"unit_price":"800"}],"total":"3200"}'
request = function()
  counter = counter + 1
  return wrk.format("POST", "/v1/orders", {
    ["Authorization"] = auth,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = run .. "-" .. counter,
  }, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status))
end
