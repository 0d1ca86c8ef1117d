-- wrk script: POST the same small JSON document on every request (keep-alive is wrk's default).
wrk.method = "POST"
wrk.body = '{"id":42,"name":"job-7f3a","values":[0.25,1.5,3.75],"labels":{"carbon-aware.io/enabled":"true","team":"batch"}}'
wrk.headers["Content-Type"] = "application/json"
