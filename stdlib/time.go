package stdlib

import (
	"errors"
	"math"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

var timeFormatOptions = luart.NewOptionSet("zone", "local")

// namedLayouts lets scripts name Go's layout constants instead of spelling
// the reference time.
var namedLayouts = map[string]string{
	"RFC3339":     time.RFC3339,
	"RFC3339Nano": time.RFC3339Nano,
	"RFC1123":     time.RFC1123,
	"RFC1123Z":    time.RFC1123Z,
	"RFC822":      time.RFC822,
	"RFC822Z":     time.RFC822Z,
	"RFC850":      time.RFC850,
	"ANSIC":       time.ANSIC,
	"UnixDate":    time.UnixDate,
	"Kitchen":     time.Kitchen,
	"Stamp":       time.Stamp,
	"StampMilli":  time.StampMilli,
	"DateTime":    time.DateTime,
	"DateOnly":    time.DateOnly,
	"TimeOnly":    time.TimeOnly,
}

// Time is the time module. Times are seconds since the Unix epoch as Lua
// numbers, fractions included; durations are seconds.
//
//	time.now() -> seconds
//	time.sleep(seconds)
//	time.format([t [, layout]] [, {zone = "UTC" | "local" | "Area/City"}]) -> string
//	time.format(t, layout, {["local"] = true})   the same as zone = "local"
//	time.parse_duration(s) -> seconds
//
// time.sleep dispatches callbacks (watch events and the like) while it
// waits, as docs/lua.md requires, and ends early with an error when the run
// is canceled or times out.
//
// time.format formats t (default: now) with layout (default RFC 3339,
// "2006-01-02T15:04:05Z07:00"). A layout containing % is a C strftime
// format (%Y-%m-%d %H:%M:%S; see strftime for the directives); otherwise it
// is a Go reference-time layout or the name of one of Go's layout constants
// ("RFC3339Nano", "DateTime", ...). Times are shown in UTC unless the zone
// option names another zone: "local" for the host's, or an IANA name. The
// option {local = true} is accepted too, but local is a Lua keyword, so it
// must be written {["local"] = true}; zone reads better.
//
// time.parse_duration reads Go duration text ("1h30m", "250ms", "-2s").
func Time(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		return moduleTable(L, map[string]lua.LGFunction{
			"now":            func(L *lua.LState) int { return timeNow(rt, L) },
			"sleep":          func(L *lua.LState) int { return timeSleep(rt, L) },
			"format":         func(L *lua.LState) int { return timeFormat(rt, L) },
			"parse_duration": timeParseDuration,
		})
	})
}

// unixSeconds converts a time to the module's seconds.
func unixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}

func timeNow(rt *luart.Runtime, L *lua.LState) int {
	L.Push(lua.LNumber(unixSeconds(rt.TimeNow())))
	return 1
}

func timeSleep(rt *luart.Runtime, L *lua.LState) int {
	d := luart.Args{L: L, Fn: "time.sleep"}.Duration(1, "seconds")
	if err := wait(rt, L, d); err != nil {
		rt.RaiseErr(L, "time.sleep", err)
	}
	return 0
}

// wait waits d on the run's context, dispatching the loop's callbacks when
// the run has a loop.
func wait(rt *luart.Runtime, L *lua.LState, d time.Duration) error {
	ctx := rt.Context()
	if rt.Loop != nil {
		err := rt.Loop.Run(ctx, L, d)
		if !errors.Is(err, luart.ErrLoopClosed) {
			return err
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func timeFormat(rt *luart.Runtime, L *lua.LState) int {
	a := luart.Args{L: L, Fn: "time.format"}
	secs := a.OptNumber(1, "t", math.NaN())
	layout := time.RFC3339
	optsAt := 2
	if _, ok := L.Get(2).(*lua.LTable); !ok {
		layout = a.OptString(2, "layout", time.RFC3339)
		optsAt = 3
	}
	o := a.Options(optsAt, "opts", timeFormatOptions)

	var t time.Time
	if math.IsNaN(secs) {
		t = rt.TimeNow()
	} else {
		if math.IsInf(secs, 0) || math.Abs(secs) > 1e15 {
			a.Fail(1, "t", "time %v is out of range", secs)
		}
		sec, frac := math.Modf(secs)
		t = time.Unix(int64(sec), int64(math.Round(frac*1e9)))
	}
	zone := o.String("zone", "UTC")
	if o.Bool("local", false) {
		if o.IsSet("zone") {
			o.Fail("local", "give zone or local, not both")
		}
		zone = "local"
	}
	switch zone {
	case "UTC", "utc":
		t = t.UTC()
	case "local":
		t = t.Local()
	default:
		loc, err := time.LoadLocation(zone)
		if err != nil {
			o.Fail("zone", "unknown time zone %q", zone)
		}
		t = t.In(loc)
	}
	if named, ok := namedLayouts[layout]; ok {
		layout = named
	}
	if strings.Contains(layout, "%") {
		s, err := strftime(t, layout)
		if err != nil {
			a.Fail(optsAt-1, "layout", "%v", err)
		}
		L.Push(lua.LString(s))
		return 1
	}
	L.Push(lua.LString(t.Format(layout)))
	return 1
}

func timeParseDuration(L *lua.LState) int {
	a := luart.Args{L: L, Fn: "time.parse_duration"}
	s := a.String(1, "s")
	d, err := time.ParseDuration(s)
	if err != nil {
		a.Fail(1, "s", "invalid duration %q (write it like 1h30m, 2.5s or 250ms)", s)
	}
	L.Push(lua.LNumber(d.Seconds()))
	return 1
}
