package engine

import (
	"math"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// osDate is Lua 5.1's os.date([format [, time]]) with the C locale's
// strftime conversions, as the reference interpreter on glibc gives them
// (testdata/osdate_corpus.lua holds its answers). gopher-lua's own renders
// several conversions wrongly ("%a" is the word "mon", "%x" a time) and
// leaves out others (%j, %U, %e, ...), and its "*t" has no yday.
//
// The result is at most maxDateExpansion times the format's length, which
// is checked against the run's budget before a large format is expanded,
// and the expansion looks at the run's context as it goes.
func (r *run) osDate(L *lua.LState) int {
	const op = "os.date"
	format := L.OptString(1, "%c")
	t := r.rt.TimeNow()
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		// C converts the number to a time_t: the fraction is dropped.
		n := math.Trunc(float64(L.CheckNumber(2)))
		if math.IsNaN(n) || math.Abs(n) > 1<<62 {
			L.Push(lua.LNil) // no struct tm holds it
			return 1
		}
		t = time.Unix(int64(n), 0)
	}
	utc := strings.HasPrefix(format, "!")
	if utc {
		format = format[1:]
		t = t.UTC()
	} else {
		t = t.Local()
	}
	if y := t.Year(); y < minCYear || y > maxCYear {
		// Beyond what C's struct tm holds: Lua 5.1 returns nil.
		L.Push(lua.LNil)
		return 1
	}
	if format == "*t" {
		L.Push(dateTable(L, t))
		return 1
	}
	if len(format) > checkBytes {
		r.sizeCheck(L, op, float64(len(format))*maxDateExpansion, "a date string")
	}
	var b strings.Builder
	b.Grow(len(format))
	zone := dateZone(t, utc)
	for i, n := 0, 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		appendConversion(&b, t, format[i], zone)
		if n++; n%luart.CheckEvery == 0 {
			r.rt.Check(L, op)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// maxDateExpansion bounds how many bytes one byte of a format becomes: the
// longest conversion is %c, 24 bytes for 2 ("Fri Feb 13 23:31:30 2009").
const maxDateExpansion = 12

// The years a C struct tm holds (tm_year is an int counted from 1900).
const (
	minCYear = math.MinInt32 + 1900
	maxCYear = math.MaxInt32 + 1900
)

// dateZone is what %Z shows: glibc's gmtime names UTC "GMT".
func dateZone(t time.Time, utc bool) string {
	if utc {
		return "GMT"
	}
	name, _ := t.Zone()
	return name
}

// dateTable is os.date("*t"): the fields of Lua 5.1's date table.
func dateTable(L *lua.LState, t time.Time) *lua.LTable {
	tbl := L.CreateTable(0, 9)
	tbl.RawSetString("year", lua.LNumber(t.Year()))
	tbl.RawSetString("month", lua.LNumber(t.Month()))
	tbl.RawSetString("day", lua.LNumber(t.Day()))
	tbl.RawSetString("hour", lua.LNumber(t.Hour()))
	tbl.RawSetString("min", lua.LNumber(t.Minute()))
	tbl.RawSetString("sec", lua.LNumber(t.Second()))
	tbl.RawSetString("wday", lua.LNumber(t.Weekday()+1))
	tbl.RawSetString("yday", lua.LNumber(t.YearDay()))
	tbl.RawSetString("isdst", lua.LBool(t.IsDST()))
	return tbl
}

var (
	shortDays   = [...]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	shortMonths = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// appendConversion writes strftime's conversion c of t in the C locale.
// Lua 5.1 hands strftime one conversion at a time, so a flag or modifier
// (%E, %O, %-, %_, ...) is not joined to the letter after it: glibc then
// writes the two characters as they are, as it does for unknown ones.
func appendConversion(b *strings.Builder, t time.Time, c byte, zone string) {
	num := func(v, width int, pad byte) {
		s := strconv.Itoa(v)
		for n := len(s); n < width; n++ {
			b.WriteByte(pad)
		}
		b.WriteString(s)
	}
	hour12 := t.Hour() % 12
	if hour12 == 0 {
		hour12 = 12
	}
	switch c {
	case 'a':
		b.WriteString(shortDays[t.Weekday()])
	case 'A':
		b.WriteString(t.Weekday().String())
	case 'b', 'h':
		b.WriteString(shortMonths[t.Month()-1])
	case 'B':
		b.WriteString(t.Month().String())
	case 'c':
		// The C locale's "%a %b %e %H:%M:%S %Y".
		appendConversion(b, t, 'a', zone)
		b.WriteByte(' ')
		appendConversion(b, t, 'b', zone)
		b.WriteByte(' ')
		appendConversion(b, t, 'e', zone)
		b.WriteByte(' ')
		appendConversion(b, t, 'T', zone)
		b.WriteByte(' ')
		appendConversion(b, t, 'Y', zone)
	case 'C':
		b.WriteString(strconv.Itoa(floorDiv(t.Year(), 100)))
	case 'd':
		num(t.Day(), 2, '0')
	case 'D':
		appendConversion(b, t, 'm', zone)
		b.WriteByte('/')
		appendConversion(b, t, 'd', zone)
		b.WriteByte('/')
		appendConversion(b, t, 'y', zone)
	case 'e':
		num(t.Day(), 2, ' ')
	case 'F':
		b.WriteString(strconv.Itoa(t.Year()))
		b.WriteByte('-')
		num(int(t.Month()), 2, '0')
		b.WriteByte('-')
		num(t.Day(), 2, '0')
	case 'g':
		y, _ := t.ISOWeek()
		num(floorMod(y, 100), 2, '0')
	case 'G':
		y, _ := t.ISOWeek()
		b.WriteString(strconv.Itoa(y))
	case 'H':
		num(t.Hour(), 2, '0')
	case 'I':
		num(hour12, 2, '0')
	case 'j':
		num(t.YearDay(), 3, '0')
	case 'k':
		num(t.Hour(), 2, ' ')
	case 'l':
		num(hour12, 2, ' ')
	case 'm':
		num(int(t.Month()), 2, '0')
	case 'M':
		num(t.Minute(), 2, '0')
	case 'n':
		b.WriteByte('\n')
	case 'p', 'P':
		ampm := "AM"
		if t.Hour() >= 12 {
			ampm = "PM"
		}
		if c == 'P' {
			ampm = strings.ToLower(ampm)
		}
		b.WriteString(ampm)
	case 'r':
		num(hour12, 2, '0')
		b.WriteByte(':')
		num(t.Minute(), 2, '0')
		b.WriteByte(':')
		num(t.Second(), 2, '0')
		b.WriteByte(' ')
		appendConversion(b, t, 'p', zone)
	case 'R':
		num(t.Hour(), 2, '0')
		b.WriteByte(':')
		num(t.Minute(), 2, '0')
	case 's':
		b.WriteString(strconv.FormatInt(t.Unix(), 10))
	case 'S':
		num(t.Second(), 2, '0')
	case 't':
		b.WriteByte('\t')
	case 'T', 'X':
		num(t.Hour(), 2, '0')
		b.WriteByte(':')
		num(t.Minute(), 2, '0')
		b.WriteByte(':')
		num(t.Second(), 2, '0')
	case 'u':
		num((int(t.Weekday())+6)%7+1, 1, '0')
	case 'U':
		// Weeks starting on Sunday; days before the first Sunday are week 0.
		num((t.YearDay()+6-int(t.Weekday()))/7, 2, '0')
	case 'V':
		_, w := t.ISOWeek()
		num(w, 2, '0')
	case 'w':
		num(int(t.Weekday()), 1, '0')
	case 'W':
		// Weeks starting on Monday.
		num((t.YearDay()+6-(int(t.Weekday())+6)%7)/7, 2, '0')
	case 'x':
		appendConversion(b, t, 'D', zone)
	case 'y':
		num(floorMod(t.Year(), 100), 2, '0')
	case 'Y':
		b.WriteString(strconv.Itoa(t.Year()))
	case 'z':
		_, off := t.Zone()
		sign := byte('+')
		if off < 0 {
			sign, off = '-', -off
		}
		b.WriteByte(sign)
		num(off/3600, 2, '0')
		num(off/60%60, 2, '0')
	case 'Z':
		b.WriteString(zone)
	case '%':
		b.WriteByte('%')
	default:
		b.WriteByte('%')
		b.WriteByte(c)
	}
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// osTime is Lua 5.1's os.time([table]): the current time, or the local
// time a date table names, normalised as C's mktime does (month 14 is
// February of the next year). year, month and day are required: gopher-
// lua's own took a missing day for -1.
func (r *run) osTime(L *lua.LState) int {
	if L.GetTop() == 0 || L.Get(1) == lua.LNil {
		L.Push(lua.LNumber(r.rt.TimeNow().Unix()))
		return 1
	}
	tbl := L.CheckTable(1)
	field := func(key string, def int) int {
		switch v := tbl.RawGetString(key).(type) {
		case lua.LNumber:
			return int(v)
		case lua.LString:
			// Lua takes a string that reads as a number for one.
			if n, ok := str2Number(string(v)); ok {
				return int(n)
			}
		}
		if def < 0 {
			L.RaiseError("field '%s' missing in date table", key)
		}
		return def
	}
	sec, minute, hour := field("sec", 0), field("min", 0), field("hour", 12)
	day, month, year := field("day", -1), field("month", -1), field("year", -1)
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.Local)
	L.Push(lua.LNumber(t.Unix()))
	return 1
}
