package engine

import (
	"context"
	"io"
	"sync"
)

// stdinReader is Config.Stdin as the runs of an engine read it: a read
// ends when the reading run's context ends, even if Stdin has nothing to
// give (a terminal, a pipe held open), so io.read cannot keep a run past
// its deadline or an interrupt.
//
// An io.Reader cannot be interrupted, so the reading happens on a
// goroutine: a read that finds no data buffered starts one Read of Stdin
// in the background and waits for it or for its context. A run that stops
// waiting hands the Read off: it goes on, and what it brings is kept for
// the next read (of this run or a later run of the engine), so no input is
// lost and at most one Read of Stdin is ever in flight. The goroutine lives
// exactly as long as that Read: once Stdin's Read returns, nothing of the
// engine is left running, whether or not the engine is closed. (A Read that
// never returns, such as a terminal nobody types into, keeps its goroutine
// until the process exits; closing the writing end of a pipe ends it.)
type stdinReader struct {
	r io.Reader

	// chunk is what the Read in flight reads into; one at a time uses it.
	chunk []byte

	mu   sync.Mutex
	buf  []byte // what a finished Read brought and nobody has taken yet
	err  error  // the error that ended Stdin (io.EOF included); final
	busy chan struct{}
}

// stdinChunk is the size of one background Read.
const stdinChunk = 32 << 10

func newStdinReader(r io.Reader) *stdinReader { return &stdinReader{r: r} }

// read reads into p what Stdin has, waiting until it has something, it
// ends, or ctx ends (then with ctx's error).
func (s *stdinReader) read(ctx context.Context, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		s.mu.Lock()
		if len(s.buf) > 0 {
			n := copy(p, s.buf)
			s.buf = s.buf[n:]
			s.mu.Unlock()
			return n, nil
		}
		if s.err != nil {
			err := s.err
			s.mu.Unlock()
			return 0, err
		}
		if s.busy == nil {
			s.busy = make(chan struct{})
			go s.fill(s.busy)
		}
		busy := s.busy
		s.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// fill is the one Read in flight; it closes busy when it is done.
func (s *stdinReader) fill(busy chan struct{}) {
	if s.chunk == nil {
		s.chunk = make([]byte, stdinChunk)
	}
	n, err := s.r.Read(s.chunk)
	s.mu.Lock()
	s.buf = append(s.buf, s.chunk[:n]...)
	if err != nil {
		s.err = err
	}
	s.busy = nil
	s.mu.Unlock()
	close(busy)
}

// ctxReader is the io.Reader of a run: stdinReader reads bounded by the
// run's context.
type ctxReader struct {
	s   *stdinReader
	ctx context.Context
}

func (c ctxReader) Read(p []byte) (int, error) { return c.s.read(c.ctx, p) }
