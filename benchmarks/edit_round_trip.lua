-- wrk script for bench_admin.py's "edit-round-trip": each thread (one connection each) edits its
-- own item in a loop: GET /item/{id}/edit, then POST the form back with the build id that GET
-- made (the form state holds the revision the edit starts from, so each save needs a fresh
-- one). Set by the benchmark: ITEMS (item ids, one per thread), BODY (the form's fields,
-- url-encoded, with BUILD where the build id goes).
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

local path, build, posting = nil, nil, false

function init(args)
  path = "/item/" .. ITEMS[index] .. "/edit"
end

function request()
  if posting and build then
    local body = string.gsub(BODY, "BUILD", build)
    -- Headers given to wrk.format replace wrk.headers (the -H session cookie): copy them.
    local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path)
end

function response(status, headers, body)
  if not posting then
    build = string.match(body, 'name="form_build_id" value="([^"]+)"')
    posting = build ~= nil
  else
    if status ~= 303 then io.stderr:write("edit-submit: status " .. status .. "\n") end
    posting = false
  end
end
