-- watch-and-react.lua: react to new jobs as they are written.
--
-- Shows: a watch with a callback, the event loop after the main chunk, and a
-- watch that ends itself. Every put under PREFIX (default jobs/) is a job: its
-- value is upper-cased into results/<name>. The script ends after N jobs
-- (default 3) or when the key PREFIX.."stop" is written, whichever comes first.
-- With START_REV it replays from that revision, so jobs written before it
-- started are handled too (and a test can run it with no race).
--
-- Run it, then write jobs from another shell:
--   etcdscript run scripts/examples/watch-and-react.lua jobs/ 3
--   etcdctl put jobs/a hello; etcdctl put jobs/stop ""
local prefix, n, start_rev = ...
prefix = prefix or "jobs/"
n = tonumber(n or 3)
start_rev = tonumber(start_rev)

local handled = 0
local opts = {prefix = true, no_delete = true}
if start_rev then opts.rev = start_rev end

etcd.watch(prefix, opts, function(ev)
  local name = ev.kv.key:sub(#prefix + 1)
  if name == "stop" then
    print("stop key seen after " .. handled .. " jobs")
    return false -- ends this watch, and with it the script
  end
  etcd.put("results/" .. name, ev.kv.value:upper())
  handled = handled + 1
  print(string.format("job %s: %s -> results/%s", name, ev.kv.value, name))
  if handled >= n then
    print("handled " .. handled .. " jobs, done")
    return false
  end
end)
print("watching " .. prefix .. " for " .. n .. " jobs")
-- The main chunk ends here; the runner keeps dispatching events until the
-- watch is over (or --timeout passes).
