-- wrk script for `make bench` (bench/web.py sets the environment):
--   BENCH_METHOD   GET or POST
--   BENCH_HEADERS  extra headers, one "Name: value" a line (cookies, X-Forwarded-Proto...)
--   BENCH_POOL     optional: a file of request bodies, one a line, shared out between threads
--   BENCH_CYCLE    "1": start the pool again when used up; otherwise a thread stops there
--                  (each submit's form token works once)
--   BENCH_THREADS  wrk's --threads, to share the pool out
--   BENCH_OUT      where done() writes the run's figures as JSON

local method = os.getenv("BENCH_METHOD") or "GET"
local pool_path = os.getenv("BENCH_POOL")
local cycle = os.getenv("BENCH_CYCLE") == "1"
local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")

local headers = {}
for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = string.match(line, "^([^:]+):%s*(.*)$")
  if name then
    headers[name] = value
  end
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  exhausted = 0
  bodies = {}
  if pool_path then
    local index = 0
    for line in io.lines(pool_path) do
      if index % thread_count == id then
        table.insert(bodies, line)
      end
      index = index + 1
    end
  end
  position = 1
end

function request()
  if not pool_path then
    return wrk.format(method, nil, headers, nil)
  end
  if position > #bodies then
    if cycle then
      position = 1
    else
      exhausted = 1
      wrk.thread:stop()
      position = #bodies -- whatever is still sent after stop() repeats a used token
    end
  end
  local body = bodies[position]
  position = position + 1
  return wrk.format(method, nil, headers, body)
end

function response(status, response_headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  local used_up = 0
  for _, thread in ipairs(threads) do
    local thread_statuses = thread:get("statuses") or {}
    for key, value in pairs(thread_statuses) do
      counts[key] = (counts[key] or 0) + value
    end
    used_up = used_up + (thread:get("exhausted") or 0)
  end
  local parts = {}
  for key, value in pairs(counts) do
    table.insert(parts, string.format('"%s": %d', key, value))
  end
  local out = io.open(os.getenv("BENCH_OUT"), "w")
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, '
      .. '"statuses": {%s}, "threads_out_of_bodies": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, table.concat(parts, ", "), used_up
  ))
  out:close()
end
