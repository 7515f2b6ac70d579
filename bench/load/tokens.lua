-- wrk script: GET /v1/me, each request with the next token of $TOKENS (one per line).
-- Run with one wrk thread (-t1) so the whole file is used in order; when the file runs out it
-- starts over, and done() reports how many requests reused a token.
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i + 1
  local t = tokens[(i - 1) % #tokens + 1]
  return wrk.format("GET", "/v1/me", { ["Authorization"] = "Bearer " .. t })
end
done = function(summary, latency, requests)
  io.write(string.format("tokens_in_file=%d requests=%d\n", #tokens, summary.requests))
end
