-- wrk script: GET /v1/me, each request with the next token of $TOKENS (one per line).
-- Run with one wrk thread (-t1) so the whole file is used in order; when the file runs out it
-- starts over, and done() reports how many requests reused a token.
--
-- Every request is built once, when the script loads (before the timed run): building it per
-- request made LuaJIT hash, intern and later collect a new 1 KB string for every token, which
-- cost wrk as much CPU as the server spends on a request, on the same two cores.
--
-- Without $TOKENS, wrk's own request for the URL is sent. With $PACE_MS, each connection waits
-- that many milliseconds after each response before its next request: every route is then
-- offered about the same rate (connections x 1000 / PACE_MS per second, less the latency), so
-- their CPU per request is compared at one load rather than each at its own saturation.
local file = os.getenv("TOKENS")
if file then
  local requests = {}
  for line in io.lines(file) do
    requests[#requests + 1] = wrk.format("GET", "/v1/me", { ["Authorization"] = "Bearer " .. line })
  end
  local i = 0
  request = function()
    i = i + 1
    return requests[(i - 1) % #requests + 1]
  end
  done = function(summary, latency, requests_done)
    io.write(string.format("tokens_in_file=%d requests=%d\n", #requests, summary.requests))
  end
end

local pace = tonumber(os.getenv("PACE_MS") or "")
if pace then
  delay = function()
    return pace
  end
end
