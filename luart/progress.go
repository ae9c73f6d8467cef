package luart

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progressInterval throttles redraws: a bulk load adds thousands of times a
// second, and a terminal needs no more than a few frames.
const progressInterval = 100 * time.Millisecond

// Progress is a one-line progress bar for long jobs such as etcd.put_many
// and the progress module. It draws only when its writer is a terminal and
// is silent otherwise, so logs and pipes stay clean. Add and Done are safe
// from any goroutine.
type Progress struct {
	w     io.Writer // nil when silent
	width int
	total int64
	label string
	count atomic.Int64

	mu    sync.Mutex
	start time.Time
	last  time.Time
	done  bool
}

// TerminalWriter is a writer that says whether it writes to a terminal. A
// host's writer wrapped by another (the engine serializes its writers with
// a lock) implements it so that what the wrapper hides can still be asked.
type TerminalWriter interface {
	io.Writer
	// TerminalFd returns the file descriptor of the terminal the writer
	// writes to, and false when it does not write to a terminal.
	TerminalFd() (fd uintptr, ok bool)
}

// TerminalFd returns the file descriptor of the terminal w writes to: w's
// own descriptor when it is a file (such as *os.File) open on a terminal,
// or what a TerminalWriter answers. It reports false for anything else.
func TerminalFd(w io.Writer) (uintptr, bool) {
	switch x := w.(type) {
	case TerminalWriter:
		return x.TerminalFd()
	case interface{ Fd() uintptr }:
		fd := x.Fd()
		return fd, term.IsTerminal(int(fd))
	}
	return 0, false
}

// NewProgress returns a bar counting towards total (0 or less: unknown
// total, only the count and rate are shown) under label. It draws on w only
// when w writes to a terminal (see TerminalFd), fitting the terminal's
// width.
func NewProgress(w io.Writer, total int64, label string) *Progress {
	var out io.Writer
	width := 0
	if fd, ok := TerminalFd(w); ok {
		out = w
		if cols, _, err := term.GetSize(int(fd)); err == nil {
			width = cols
		}
	}
	return newProgress(out, width, total, label)
}

// newProgress builds a bar drawing on w (nil: silent) for a terminal width
// columns wide; tests use it to draw into a buffer.
func newProgress(w io.Writer, width int, total int64, label string) *Progress {
	if width <= 0 {
		width = 80
	}
	now := time.Now()
	return &Progress{w: w, width: width, total: total, label: label, start: now}
}

// Add counts n more units done and redraws if the last frame is old enough.
func (p *Progress) Add(n int64) {
	p.count.Add(n)
	if p.w == nil {
		return
	}
	// A goroutine already drawing will show this count or a later one.
	if !p.mu.TryLock() {
		return
	}
	defer p.mu.Unlock()
	if p.done {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < progressInterval {
		return
	}
	p.last = now
	p.draw(now)
}

// Count returns the units counted so far.
func (p *Progress) Count() int64 { return p.count.Load() }

// Done draws the final state and ends the line. Later calls to Add count but
// no longer draw.
func (p *Progress) Done() {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.done = true
	p.draw(time.Now())
	_, _ = io.WriteString(p.w, "\n")
}

// draw writes one frame; p.mu is held. Write errors are ignored: a broken
// terminal must not fail the job the bar reports on.
func (p *Progress) draw(now time.Time) {
	n := p.count.Load()
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(n) / elapsed
	}
	var tail string
	if p.total > 0 {
		frac := min(float64(n)/float64(p.total), 1)
		tail = fmt.Sprintf(" %3.0f%% %d/%d %s/s", frac*100, n, p.total, humanCount(rate))
		if rate > 0 && n < p.total {
			eta := time.Duration(float64(p.total-n) / rate * float64(time.Second))
			tail += " ETA " + eta.Round(time.Second).String()
		}
		head := p.label
		if head != "" {
			head += " "
		}
		barWidth := min(p.width-len(head)-len(tail)-3, 40)
		if barWidth >= 10 {
			fill := int(frac * float64(barWidth))
			head += "[" + strings.Repeat("=", fill) + strings.Repeat(" ", barWidth-fill) + "]"
		}
		tail = head + tail
	} else {
		tail = fmt.Sprintf("%s %d %s/s", p.label, n, humanCount(rate))
	}
	// \r returns to the line start and ESC[K clears what a longer frame left.
	_, _ = io.WriteString(p.w, "\r"+tail+"\x1b[K")
}

// humanCount shortens a rate for the bar: 950, 12.3k, 4.1M.
func humanCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}
