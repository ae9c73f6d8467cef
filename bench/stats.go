package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Median returns the median of xs (the mean of the two middle values for
// an even count), or NaN for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Mean returns the arithmetic mean of xs, or NaN for none.
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// Spread returns the smallest and largest of xs, or NaNs for none.
func Spread(xs []float64) (lo, hi float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	return slices.Min(xs), slices.Max(xs)
}

// HigherIsBetter reports whether a larger value of unit is an improvement:
// rates (events/s, keys/s) are; times, bytes and counts per op are not.
func HigherIsBetter(unit string) bool { return strings.HasSuffix(unit, "/s") }

// Ratio returns ours/base, or NaN when base is zero or either is NaN, so a
// missing figure never reads as an infinitely good or bad one.
func Ratio(ours, base float64) float64 {
	if base == 0 || math.IsNaN(base) || math.IsNaN(ours) {
		return math.NaN()
	}
	return ours / base
}

// FormatNumber prints v for a table: integers with thousands separators from
// 100 up, three significant digits below.
func FormatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case math.IsInf(v, 0):
		return fmt.Sprint(v)
	case math.Abs(v) >= 100:
		return groupThousands(fmt.Sprintf("%.0f", v))
	case v == 0:
		return "0"
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// FormatRatio prints a ratio as "1.23x" (three significant digits, and
// thousands separators for large ones).
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	if r >= 100 {
		return groupThousands(fmt.Sprintf("%.0f", r)) + "x"
	}
	return fmt.Sprintf("%.3gx", r)
}

func groupThousands(digits string) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
