package stdlib

import (
	"fmt"
	"strconv"
	"time"
)

// strftime formats t with C strftime directives. Supported: %a %A %b %B %c
// %C %d %D %e %F %H %I %j %k %l %m %M %n %p %R %s %S %t %T %u %w %y %Y %z %Z
// %%, and three for fractions of a second: %L (milliseconds, 3 digits), %f
// (microseconds, 6 digits) and %N (nanoseconds, 9 digits). Any other
// directive is an error rather than left in the output.
func strftime(t time.Time, layout string) (string, error) {
	b := make([]byte, 0, len(layout)+16)
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		i++
		if i >= len(layout) {
			return "", fmt.Errorf("layout ends with a lone %%")
		}
		switch d := layout[i]; d {
		case 'a':
			b = append(b, t.Weekday().String()[:3]...)
		case 'A':
			b = append(b, t.Weekday().String()...)
		case 'b', 'h':
			b = append(b, t.Month().String()[:3]...)
		case 'B':
			b = append(b, t.Month().String()...)
		case 'c':
			b = t.AppendFormat(b, "Mon Jan  2 15:04:05 2006")
		case 'C':
			b = pad(b, t.Year()/100, 2, '0')
		case 'd':
			b = pad(b, t.Day(), 2, '0')
		case 'D':
			b = t.AppendFormat(b, "01/02/06")
		case 'e':
			b = pad(b, t.Day(), 2, ' ')
		case 'F':
			b = t.AppendFormat(b, "2006-01-02")
		case 'H':
			b = pad(b, t.Hour(), 2, '0')
		case 'I':
			b = pad(b, hour12(t), 2, '0')
		case 'j':
			b = pad(b, t.YearDay(), 3, '0')
		case 'k':
			b = pad(b, t.Hour(), 2, ' ')
		case 'l':
			b = pad(b, hour12(t), 2, ' ')
		case 'm':
			b = pad(b, int(t.Month()), 2, '0')
		case 'M':
			b = pad(b, t.Minute(), 2, '0')
		case 'n':
			b = append(b, '\n')
		case 'p':
			b = t.AppendFormat(b, "PM")
		case 'R':
			b = t.AppendFormat(b, "15:04")
		case 's':
			b = strconv.AppendInt(b, t.Unix(), 10)
		case 'S':
			b = pad(b, t.Second(), 2, '0')
		case 't':
			b = append(b, '\t')
		case 'T':
			b = t.AppendFormat(b, "15:04:05")
		case 'u':
			wd := int(t.Weekday())
			if wd == 0 {
				wd = 7
			}
			b = strconv.AppendInt(b, int64(wd), 10)
		case 'w':
			b = strconv.AppendInt(b, int64(t.Weekday()), 10)
		case 'y':
			b = pad(b, t.Year()%100, 2, '0')
		case 'Y':
			b = strconv.AppendInt(b, int64(t.Year()), 10)
		case 'z':
			b = t.AppendFormat(b, "-0700")
		case 'Z':
			b = t.AppendFormat(b, "MST")
		case 'L':
			b = pad(b, t.Nanosecond()/1e6, 3, '0')
		case 'f':
			b = pad(b, t.Nanosecond()/1e3, 6, '0')
		case 'N':
			b = pad(b, t.Nanosecond(), 9, '0')
		case '%':
			b = append(b, '%')
		default:
			return "", fmt.Errorf("unknown directive %%%c", d)
		}
	}
	return string(b), nil
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return h
}

// pad appends v in at least width digits, filled on the left with fill.
func pad(b []byte, v, width int, fill byte) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, fill)
	}
	return append(b, s...)
}
