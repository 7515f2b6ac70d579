-- wrk script: GET /v1/me, each request with the next token of $TOKENS (one per line).
-- Run with one wrk thread (-t1) so the whole file is used in order; when the file runs out it
-- starts over, and done() reports how many requests reused a token.
--
-- Every request is built once, when the script loads (before the timed run): building it per
-- request made LuaJIT hash, intern and later collect a new 1 KB string for every token, which
-- cost wrk as much CPU as the server spends on a request, on the same two cores.
local requests = {}
for line in io.lines(os.getenv("TOKENS")) do
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
