package luart

import "fmt"

// sprintf skips fmt when there is nothing to format, which keeps constant
// messages free of allocations.
func sprintf(format string, args ...any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}
