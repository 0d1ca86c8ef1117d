-- wrk script for a fixed offered load: wrk has no rate flag (and Debian ships no wrk2), so each
-- connection waits WRK_DELAY_MS before its next request. With C connections the rate is about
-- C * 1000 / (WRK_DELAY_MS + latency) requests/s; run.sh reports the rate actually reached.
-- wrk's latency figures exclude the delay, so they are the server's answer times at that load.
wrk.method = "POST"
wrk.body = '{"id":42,"name":"job-7f3a","values":[0.25,1.5,3.75],"labels":{"carbon-aware.io/enabled":"true","team":"batch"}}'
wrk.headers["Content-Type"] = "application/json"

local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "9")

function delay()
  return delay_ms
end
