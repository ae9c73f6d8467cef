---@meta
-- LuaLS definitions of etcdscript's standard modules (docs/lua.md).

---@class json
---@field null userdata  # the JSON null; also inside arrays
local json = {}
---@param v any
---@param opts? {indent?: integer|string, sort_keys?: boolean}
---@return string
function json.encode(v, opts) end
---@param s string
---@return any
function json.decode(s) end
---Marks t as an array, so that an empty one encodes as [].
---@param t table
---@return table
function json.array(t) end

---@class yaml
---@field null userdata  # the null sentinel, the same value as json.null
local yaml = {}
---@param v any
---@param opts? {indent?: integer, sort_keys?: boolean}
---@return string
function yaml.encode(v, opts) end
---@param s string
---@return any
function yaml.decode(s) end
---Marks t as a sequence, so that an empty one encodes as [].
---@param t table
---@return table
function yaml.array(t) end

---@class base64
local base64 = {}
---@param s string
---@return string
function base64.encode(s) end
---@param s string
---@return string
function base64.decode(s) end
---@param s string
---@return string
function base64.url_encode(s) end
---@param s string
---@return string
function base64.url_decode(s) end

---@class time.FormatOpts
---@field zone? "UTC"|"local"|string  # "Area/City" names an IANA zone
---@field ["local"]? boolean  # the same as zone = "local"

---@class time
local time = {}
---@return number seconds since the epoch
function time.now() end
---Sleeps, dispatching watch and lease callbacks meanwhile.
---@param seconds number
function time.sleep(seconds) end
---@param t? number  # seconds since the epoch; now when nil
---@param layout? string  # a Go layout or strftime %-directives; RFC 3339 by default
---@param opts? time.FormatOpts
---@return string
function time.format(t, layout, opts) end
---@param s string  # e.g. "1m30s"
---@return number seconds
function time.parse_duration(s) end

---@class log
local log = {}
---@param msg string
---@param fields? table<string, any>
function log.debug(msg, fields) end
---@param msg string
---@param fields? table<string, any>
function log.info(msg, fields) end
---@param msg string
---@param fields? table<string, any>
function log.warn(msg, fields) end
---@param msg string
---@param fields? table<string, any>
function log.error(msg, fields) end

---@class fs
local fs = {}
---@param path string
---@return string
function fs.read(path) end
---@param path string
---@param s string
---@param opts? {append?: boolean}
function fs.write(path, s, opts) end
---@param path string
---@return fun(): string|nil
function fs.lines(path) end
---@param path string
---@return boolean
function fs.exists(path) end
---@param pattern string
---@return string[]
function fs.glob(pattern) end

---@class env
local env = {}
---@param name string
---@param default? string
---@return string|nil
function env.get(name, default) end

---@class strings
local strings = {}
---@param s string
---@param sep string
---@param n? integer
---@return string[]
function strings.split(s, sep, n) end
---@param s string
---@param cutset? string
---@return string
function strings.trim(s, cutset) end
---@param s string
---@param prefix string
---@return boolean
function strings.has_prefix(s, prefix) end
---@param s string
---@param suffix string
---@return boolean
function strings.has_suffix(s, suffix) end
---@param t string[]
---@param sep string
---@return string
function strings.join(t, sep) end

---@class retry
---@overload fun(fn: function, opts?: {attempts?: integer, base?: number, max?: number, on_retry?: fun(err: any, attempt: integer, delay: number)}): ...
local retry = {}
---Calls fn, repeating it with jittered backoff on errors whose retryable is true.
---@param fn function
---@param opts? {attempts?: integer, base?: number, max?: number, on_retry?: fun(err: any, attempt: integer, delay: number)}
---@return ...
function retry.retry(fn, opts) end

---@class progress.Bar
local Bar = {}
---@param n? integer  # default 1
function Bar:add(n) end
---Draws the final state and ends the line.
function Bar:done() end
---@return integer # the count so far
function Bar:count() end

---@class progress
local progress = {}
---A bar on stderr, drawn only when stderr is a terminal.
---@param total? integer  # 0: unknown
---@param label? string
---@return progress.Bar
function progress.bar(total, label) end

---The assertions of test files (`etcdscript test`): the global `assert` there,
---and `require("assert")` in any script. The table is callable as Lua's own assert.
---@class assert
---@overload fun(v: any, msg?: any, ...): any
local assert = {}
---Deep equality for tables, == otherwise.
---@param got any
---@param want any
---@param msg? string
function assert.eq(got, want, msg) end
---@param a any
---@param b any
---@param msg? string
function assert.ne(a, b, msg) end
---@param v any
---@param msg? string
function assert.truthy(v, msg) end
---@param v any
---@param msg? string
function assert.falsy(v, msg) end
---|a - b| <= eps.
---@param a number
---@param b number
---@param eps number
---@param msg? string
function assert.near(a, b, eps, msg) end
---@param s string
---@param pattern string a Lua pattern
---@param msg? string
function assert.match(s, pattern, msg) end
---Calls fn under pcall and expects it to fail; with code_or_pattern, the error's
---code must equal it, or its text contain or match it. Returns the error.
---@param fn function
---@param code_or_pattern? string
---@param msg? string
---@return any err
function assert.error(fn, code_or_pattern, msg) end
---@param msg? string
function assert.fail(msg) end

---Declares a case of a test file (`etcdscript test`): run in order, after the
---file's top level.
---@param name string
---@param fn fun()
function test(name, fn) end

---@class migrate.Migration
---@field version integer
---@field name string
---@field revision? integer the etcd revision after it (up)
---@field status? string its status (status)

---@class migrate.Status
---@field head integer
---@field dirty boolean
---@field clean boolean
---@field next? integer
---@field migrations migrate.Migration[]

---`require("migrate")` in test files: a migrations directory (relative to the
---test file's directory) applied to the file's etcd, as `etcdscript migrate` does.
---@class migrate
local migrate = {}
---@param dir string
---@param opts? {set?: string, prefix?: string, to?: integer}
---@return migrate.Migration[] applied
function migrate.up(dir, opts) end
---One step without `to` or `all`.
---@param dir string
---@param opts? {set?: string, prefix?: string, to?: integer, all?: boolean}
---@return migrate.Migration[] reverted
function migrate.down(dir, opts) end
---@param dir string
---@param opts? {set?: string, prefix?: string}
---@return migrate.Status
function migrate.status(dir, opts) end
