-- wrk script for make bench-webhook: POSTs the AdmissionReview in WRK_BODY_FILE on every
-- request (keep-alive is wrk's default), as the API server calls a mutating webhook.
-- With WRK_DELAY_MS set, each connection waits that long before its next request, which fixes
-- the offered load (wrk has no rate flag and Debian ships no wrk2): C connections give about
-- C * 1000 / (WRK_DELAY_MS + latency) requests/s; run.sh reports the rate actually reached.
-- wrk's latency figures exclude the delay, so they are the server's answer times at that load.
local file = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

