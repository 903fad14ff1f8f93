-- wrk script for bench_admin.py's "edit-submit": the POST of the item edit form alone. The
-- benchmark rendered (GET) one edit form per POST before the run, each on its own item, and
-- wrote one list per wrk thread (one connection each): FORMS .. index .. ".txt", a line
-- "path build_id" per form. Each thread POSTs each of its forms once, in order; when its list
-- runs out it stops (the supply was too short: the benchmark says so). At the end the counts
-- of 303s (saved), of other statuses and of POSTs sent (those sent but unanswered when the
-- run stopped may still save) go to FORMS .. "counts.txt".
-- Set by the benchmark: FORMS (the lists' path prefix), BODY (the form's fields, url-encoded,
-- with BUILD where the build id goes).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

local forms = {}
position, saved, other = 0, 0, 0

function init(args)
  for line in io.lines(FORMS .. index .. ".txt") do
    local path, build = string.match(line, "^(%S+) (%S+)$")
    table.insert(forms, {path, build})
  end
end

function request()
  position = position + 1
  local form = forms[position]
  if form == nil then  -- not reached: the thread stops after its last form's response
    wrk.thread:stop()
    return wrk.format("GET", "/")
  end
  local body = string.gsub(BODY, "BUILD", form[2])
  -- Headers given to wrk.format replace wrk.headers (the -H session cookie): copy them.
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  return wrk.format("POST", form[1], headers, body)
end

function response(status, headers, body)
  if status == 303 then saved = saved + 1 else other = other + 1 end
  if position >= #forms then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local saved, other, sent = 0, 0, 0
  for _, thread in ipairs(threads) do
    saved = saved + thread:get("saved")
    other = other + thread:get("other")
    sent = sent + thread:get("position")
  end
  local out = io.open(FORMS .. "counts.txt", "w")
  out:write(string.format("%d %d %d\n", saved, other, sent))
  out:close()
end
