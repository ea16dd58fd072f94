-- wrk script of benchmarks/replay.py: send pre-recorded raw HTTP/1.1 requests in turn.
-- REPLAY_FILE holds records of "<decimal length>\n<that many bytes>". Each wrk thread
-- starts at its own offset so threads do not walk the same keys in step.
local requests = {}
local counter = 0

function init(args)
  local file = assert(io.open(os.getenv("REPLAY_FILE"), "rb"))
  local data = file:read("*a")
  file:close()
  local pos = 1
  while pos <= #data do
    local newline = data:find("\n", pos, true)
    local length = tonumber(data:sub(pos, newline - 1))
    requests[#requests + 1] = data:sub(newline + 1, newline + length)
    pos = newline + 1 + length
  end
  assert(#requests > 0, "no requests in REPLAY_FILE")
  counter = math.random(#requests)
end

function request()
  counter = counter % #requests + 1
  return requests[counter]
end
