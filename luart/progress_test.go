package luart

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a bar.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestProgressSilentOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := NewProgress(&buf, 10, "load")
	p.Add(5)
	p.Done()
	if buf.Len() != 0 {
		t.Fatalf("drew %q on a buffer", buf.String())
	}
	if p.Count() != 5 {
		t.Fatalf("Count = %d", p.Count())
	}
}

func TestProgressDraws(t *testing.T) {
	var buf syncBuffer
	p := newProgress(&buf, 80, 100, "load")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 25 {
				p.Add(1)
			}
		})
	}
	wg.Wait()
	p.Done()
	p.Done()
	p.Add(1) // after Done: counted, not drawn
	out := buf.String()
	if !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("want one final newline, got %q", out)
	}
	final := out[strings.LastIndex(out, "\r")+1:]
	for _, want := range []string{"load [", "100%", "100/100"} {
		if !strings.Contains(final, want) {
			t.Errorf("final frame %q lacks %q", final, want)
		}
	}
	// Throttled: 100 adds within well under a second draw only a few frames.
	if frames := strings.Count(out, "\r"); frames > 5 {
		t.Errorf("%d frames for a burst of adds", frames)
	}
}

func TestProgressUnknownTotal(t *testing.T) {
	var buf syncBuffer
	p := newProgress(&buf, 80, 0, "keys")
	p.start = time.Now().Add(-time.Second)
	p.Add(1500)
	p.Done()
	if out := buf.String(); !strings.Contains(out, "keys 1500 ") {
		t.Errorf("got %q", out)
	}
}

func TestHumanCount(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{{950, "950"}, {12345, "12.3k"}, {4.1e6, "4.1M"}}
	for _, tt := range tests {
		if got := humanCount(tt.v); got != tt.want {
			t.Errorf("humanCount(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// termWriter is a wrapper that says it writes to a terminal, as the
// engine's locked writer does for a host's terminal.
type termWriter struct{ syncBuffer }

func (*termWriter) TerminalFd() (uintptr, bool) { return ^uintptr(0), true }

func TestProgressDrawsThroughTerminalWriter(t *testing.T) {
	var w termWriter
	p := NewProgress(&w, 10, "load")
	p.Add(10)
	p.Done()
	if out := w.String(); !strings.Contains(out, "\rload [") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("drew %q through a TerminalWriter", out)
	}
	var plain syncBuffer
	if _, ok := TerminalFd(&plain); ok {
		t.Fatal("a buffer reads as a terminal")
	}
}
