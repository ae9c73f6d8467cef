package engine

import (
	"context"
	"errors"
	"math/bits"
	"strings"
	"sync"

	"github.com/etcdscript/etcdscript/luart"
)

// This file is the engine's matcher of Lua 5.1 patterns (reference manual,
// section 5.4.1), behind string.find, match, gmatch and gsub. gopher-lua's
// matcher never looks at the run's context, so one call with a pattern that
// backtracks (string.rep("a-", 12) .. "b" on 60 a's: 60^12 steps) holds the
// run, and the host's goroutine, forever. This one counts its steps and
// gives up when the run's context ends.
//
// A pattern is compiled once per call into items: a single-character class
// is a 256-bit set whatever its spelling ('x', '.', %a, [^%s,]), so every
// test of a subject byte is one bit lookup. Matching backtracks over the
// items; every recursive call moves to a later item, so the recursion is no
// deeper than the pattern is long.
//
// Where Lua 5.1 itself is odd, this matcher is odd in the same way (the
// differential corpus in testdata/patterns_corpus.lua checks it against
// lua5.1): a malformed pattern raises only when the match reaches the
// malformed part, a back-reference to a position capture never matches,
// gsub's replacement "%" at the very end inserts a NUL byte, %f is
// supported (undocumented in 5.1, but in its code). One deliberate
// difference: Lua 5.1 ends a pattern at its first NUL byte (C strings);
// here a NUL is an ordinary character, as in Lua 5.2 and in gopher-lua.

// maxCaptures is Lua 5.1's LUA_MAXCAPTURES.
const maxCaptures = 32

// maxPatternDepth bounds the recursion of one match. Lua 5.1 has no bound
// (a long enough pattern overflows the C stack); one recursion per
// quantified item or capture of the pattern, at about 200 bytes of Go stack
// each, this allows any pattern a person writes.
const maxPatternDepth = 20000

// Capture lengths that are not lengths.
const (
	capUnfinished = -1 // opened, not yet closed
	capPosition   = -2 // a position capture ()
)

// byteSet is a set of bytes, one bit each.
type byteSet [4]uint64

func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }

func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}

func (s *byteSet) union(o *byteSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

func (s *byteSet) invert() {
	for i := range s {
		s[i] = ^s[i]
	}
}

// single reports the only byte of a set that has exactly one.
func (s *byteSet) single() (byte, bool) {
	n := 0
	var found byte
	for i, w := range s {
		if w != 0 {
			n += bits.OnesCount64(w)
			found = byte(i*64 + bits.TrailingZeros64(w))
		}
	}
	return found, n == 1
}

// classSets are the sets of %a, %c, %d, %l, %p, %s, %u, %w, %x and %z, by
// their lowercase letter, in the C locale Lua 5.1 runs in: no byte above
// 127 is in any class.
var classSets = func() map[byte]*byteSet {
	in := func(f func(c byte) bool) *byteSet {
		s := new(byteSet)
		for c := 0; c < 256; c++ {
			if f(byte(c)) {
				s.add(byte(c))
			}
		}
		return s
	}
	lower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	upper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	alpha := func(c byte) bool { return lower(c) || upper(c) }
	graph := func(c byte) bool { return c > 32 && c < 127 }
	return map[byte]*byteSet{
		'a': in(alpha),
		'c': in(func(c byte) bool { return c < 32 || c == 127 }),
		'd': in(digit),
		'l': in(lower),
		'p': in(func(c byte) bool { return graph(c) && !alpha(c) && !digit(c) }),
		's': in(func(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }),
		'u': in(upper),
		'w': in(func(c byte) bool { return alpha(c) || digit(c) }),
		'x': in(func(c byte) bool { return digit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }),
		'z': in(func(c byte) bool { return c == 0 }),
	}
}()

// escapeSet is the set of %c: a class when c is a class letter (its
// complement for the uppercase letter), else the character c itself.
func escapeSet(c byte) byteSet {
	lc, upper := c, false
	if c >= 'A' && c <= 'Z' {
		lc, upper = c+'a'-'A', true
	}
	cls, ok := classSets[lc]
	if !ok {
		var s byteSet
		s.add(c)
		return s
	}
	s := *cls
	if upper {
		s.invert()
	}
	return s
}

// quant is the quantifier of a single-character item.
type quant uint8

const (
	qOne  quant = iota
	qOpt        // ?
	qStar       // * (longest)
	qPlus       // +
	qLazy       // - (shortest)
)

type itemKind uint8

const (
	itemSingle   itemKind = iota // a character class, with its quantifier
	itemOpen                     // (
	itemPosition                 // ()
	itemClose                    // )
	itemBackref                  // %1 to %9 (and %0, which is an error)
	itemBalance                  // %bxy
	itemFrontier                 // %f[set]
	itemEnd                      // $ at the end of the pattern
	itemFail                     // the malformed rest of a pattern
)

type patItem struct {
	kind itemKind
	q    quant
	// x and y: %b's delimiters; x: the digit of a back-reference.
	x, y byte
	set  byteSet
	// msg is itemFail's error, raised when the match gets there.
	msg string
}

// pattern is a compiled pattern.
type pattern struct {
	items    []patItem
	anchored bool
	// first is the byte every match starts with, when the first item is one
	// literal byte; the search then skips to it with IndexByte. -1 if none.
	first int
}

// specials are the characters that make a find pattern more than plain
// text (Lua 5.1's SPECIALS).
const specials = "^$*+?.([%-"

// compilePattern compiles pat. With anchorOK a leading '^' anchors the
// match at the start position (find, match, gsub); gmatch passes false, and
// '^' is then an ordinary character, as in Lua 5.1. A malformed pattern
// compiles: what precedes the fault works, and the fault raises its error
// only if a match gets that far, as in Lua 5.1.
func compilePattern(pat string, anchorOK bool) *pattern {
	p := &pattern{first: -1}
	i := 0
	if anchorOK && strings.HasPrefix(pat, "^") {
		p.anchored = true
		i = 1
	}
	fail := func(msg string) { p.items = append(p.items, patItem{kind: itemFail, msg: msg}) }
	for i < len(pat) {
		c := pat[i]
		switch {
		case c == '(':
			if i+1 < len(pat) && pat[i+1] == ')' {
				p.items = append(p.items, patItem{kind: itemPosition})
				i += 2
			} else {
				p.items = append(p.items, patItem{kind: itemOpen})
				i++
			}
			continue
		case c == ')':
			p.items = append(p.items, patItem{kind: itemClose})
			i++
			continue
		case c == '$' && i+1 == len(pat):
			p.items = append(p.items, patItem{kind: itemEnd})
			i++
			continue
		case c == '%' && i+1 < len(pat):
			switch d := pat[i+1]; {
			case d == 'b':
				if i+3 >= len(pat) {
					fail("unbalanced pattern")
					return p.finish()
				}
				p.items = append(p.items, patItem{kind: itemBalance, x: pat[i+2], y: pat[i+3]})
				i += 4
				continue
			case d == 'f':
				i += 2
				if i >= len(pat) || pat[i] != '[' {
					fail("missing '[' after '%f' in pattern")
					return p.finish()
				}
				end, msg := classEnd(pat, i)
				if msg != "" {
					fail(msg)
					return p.finish()
				}
				p.items = append(p.items, patItem{kind: itemFrontier, set: bracketSet(pat[i:end])})
				i = end
				continue
			case d >= '0' && d <= '9':
				p.items = append(p.items, patItem{kind: itemBackref, x: d})
				i += 2
				continue
			}
		}
		end, msg := classEnd(pat, i)
		if msg != "" {
			fail(msg)
			return p.finish()
		}
		it := patItem{kind: itemSingle, set: singleSet(pat[i:end])}
		if end < len(pat) {
			switch pat[end] {
			case '?':
				it.q = qOpt
			case '*':
				it.q = qStar
			case '+':
				it.q = qPlus
			case '-':
				it.q = qLazy
			}
			if it.q != qOne {
				end++
			}
		}
		p.items = append(p.items, it)
		i = end
	}
	return p.finish()
}

func (p *pattern) finish() *pattern {
	if len(p.items) > 0 && p.items[0].kind == itemSingle && (p.items[0].q == qOne || p.items[0].q == qPlus) {
		if c, ok := p.items[0].set.single(); ok {
			p.first = int(c)
		}
	}
	return p
}

// classEnd returns the end of the single-character class that starts at
// pat[i], or the malformed-pattern message.
func classEnd(pat string, i int) (int, string) {
	c := pat[i]
	i++
	switch c {
	case '%':
		if i >= len(pat) {
			return 0, "malformed pattern (ends with '%')"
		}
		return i + 1, ""
	case '[':
		if i < len(pat) && pat[i] == '^' {
			i++
		}
		// The first character is a member even when it is ']' ("[]]").
		for {
			if i >= len(pat) {
				return 0, "malformed pattern (missing ']')"
			}
			c := pat[i]
			i++
			if c == '%' && i < len(pat) {
				i++
			}
			if i < len(pat) && pat[i] == ']' {
				return i + 1, ""
			}
		}
	}
	return i, ""
}

// singleSet is the set of one single-character class: x, ., %x or [set].
func singleSet(cls string) byteSet {
	switch cls[0] {
	case '.':
		var s byteSet
		s.invert()
		return s
	case '%':
		return escapeSet(cls[1])
	case '[':
		return bracketSet(cls)
	}
	var s byteSet
	s.add(cls[0])
	return s
}

// bracketSet is the set of "[...]": members, ranges x-y and %classes, all
// complemented after a leading '^'.
func bracketSet(cls string) byteSet {
	var s byteSet
	end := len(cls) - 1 // the closing ']'
	i := 1
	negate := cls[1] == '^'
	if negate {
		i = 2
	}
	for i < end {
		switch c := cls[i]; {
		case c == '%':
			e := escapeSet(cls[i+1])
			s.union(&e)
			i += 2
		case cls[i+1] == '-' && i+2 < end:
			s.addRange(c, cls[i+2])
			i += 3
		default:
			s.add(c)
			i++
		}
	}
	if negate {
		s.invert()
	}
	return s
}

// errPatternInterrupted is what a match panics with when its context has
// ended; the entry points recover it.
var errPatternInterrupted = errors.New("pattern match interrupted")

// patternError is a malformed pattern or a wrong capture, with Lua 5.1's
// message.
type patternError struct{ msg string }

func (e *patternError) Error() string { return e.msg }

type capture struct{ start, n int }

// matcher matches one compiled pattern against one subject.
type matcher struct {
	src   string
	p     *pattern
	level int
	caps  [maxCaptures]capture
	poll  luart.Poll
}

var matcherPool = sync.Pool{New: func() any { return new(matcher) }}

// newMatcher returns a matcher from the pool; release it when done.
func newMatcher(ctx context.Context, p *pattern, src string) *matcher {
	m := matcherPool.Get().(*matcher)
	m.src, m.p, m.level = src, p, 0
	m.poll = luart.NewPoll(ctx)
	return m
}

func (m *matcher) release() {
	m.src, m.p = "", nil
	matcherPool.Put(m)
}

// catch turns the panics of a match into its error.
func catch(err *error) {
	switch v := recover().(type) {
	case nil:
	case *patternError:
		*err = v
	case error:
		if !errors.Is(v, errPatternInterrupted) {
			panic(v)
		}
		*err = v
	default:
		panic(v)
	}
}

// at tries a match that starts at s, returning its end or -1.
func (m *matcher) at(s int) (end int, err error) {
	defer catch(&err)
	m.level = 0
	return m.match(s, 0, 0), nil
}

// search finds the first match that starts at init or later (only at init
// when the pattern is anchored). ok is false when there is none.
func (m *matcher) search(init int) (start, end int, ok bool, err error) {
	defer catch(&err)
	for s := init; s <= len(m.src); s++ {
		if m.p.first >= 0 && !m.p.anchored {
			i := strings.IndexByte(m.src[s:], byte(m.p.first))
			if i < 0 {
				return 0, 0, false, nil
			}
			s += i
		}
		m.level = 0
		if e := m.match(s, 0, 0); e >= 0 {
			return s, e, true, nil
		}
		if m.p.anchored {
			break
		}
	}
	return 0, 0, false, nil
}

func (m *matcher) step() {
	if m.poll.Step() {
		panic(errPatternInterrupted)
	}
}

func (m *matcher) fail(msg string) { panic(&patternError{msg: msg}) }

// match matches the items from pi on against the subject from s, returning
// the end of the match or -1. d is the depth of the recursion.
func (m *matcher) match(s, pi, d int) int {
	if d > maxPatternDepth {
		m.fail("pattern too complex")
	}
	items := m.p.items
	for {
		m.step()
		if pi == len(items) {
			return s
		}
		it := &items[pi]
		switch it.kind {
		case itemSingle:
			hit := s < len(m.src) && it.set.has(m.src[s])
			switch it.q {
			case qOne:
				if !hit {
					return -1
				}
				s++
				pi++
				continue
			case qOpt:
				if hit {
					if e := m.match(s+1, pi+1, d+1); e >= 0 {
						return e
					}
				}
				pi++
				continue
			case qStar:
				return m.longest(s, pi, d)
			case qPlus:
				if !hit {
					return -1
				}
				return m.longest(s+1, pi, d)
			default: // qLazy
				return m.shortest(s, pi, d)
			}
		case itemOpen:
			return m.open(s, pi, d, capUnfinished)
		case itemPosition:
			return m.open(s, pi, d, capPosition)
		case itemClose:
			return m.close(s, pi, d)
		case itemBackref:
			l := int(it.x) - '1'
			if l < 0 || l >= m.level || m.caps[l].n == capUnfinished {
				m.fail("invalid capture index")
			}
			c := m.caps[l]
			if c.n < 0 || len(m.src)-s < c.n || m.src[c.start:c.start+c.n] != m.src[s:s+c.n] {
				// A position capture has no text: Lua 5.1 compares its
				// "length" as a huge unsigned number and never matches.
				return -1
			}
			s += c.n
			pi++
		case itemBalance:
			e := m.balance(s, it.x, it.y)
			if e < 0 {
				return -1
			}
			s = e
			pi++
		case itemFrontier:
			// Before the subject and after it is the byte 0, as in Lua.
			var prev, cur byte
			if s > 0 {
				prev = m.src[s-1]
			}
			if s < len(m.src) {
				cur = m.src[s]
			}
			if it.set.has(prev) || !it.set.has(cur) {
				return -1
			}
			pi++
		case itemEnd:
			if s != len(m.src) {
				return -1
			}
			return s
		default: // itemFail
			m.fail(it.msg)
		}
	}
}

// longest matches item pi (x*) as often as it can, then gives back one
// character at a time until the rest of the pattern matches.
func (m *matcher) longest(s, pi, d int) int {
	set := &m.p.items[pi].set
	n := 0
	for s+n < len(m.src) && set.has(m.src[s+n]) {
		n++
		m.step()
	}
	if pi+1 == len(m.p.items) {
		return s + n
	}
	for ; n >= 0; n-- {
		if e := m.match(s+n, pi+1, d+1); e >= 0 {
			return e
		}
	}
	return -1
}

// shortest matches item pi (x-) as seldom as it can: one more character
// each time the rest of the pattern fails.
func (m *matcher) shortest(s, pi, d int) int {
	set := &m.p.items[pi].set
	for {
		if e := m.match(s, pi+1, d+1); e >= 0 {
			return e
		}
		if s >= len(m.src) || !set.has(m.src[s]) {
			return -1
		}
		s++
	}
}

func (m *matcher) open(s, pi, d, what int) int {
	if m.level >= maxCaptures {
		m.fail("too many captures")
	}
	m.caps[m.level] = capture{start: s, n: what}
	m.level++
	e := m.match(s, pi+1, d+1)
	if e < 0 {
		m.level--
	}
	return e
}

func (m *matcher) close(s, pi, d int) int {
	l := m.level - 1
	for l >= 0 && m.caps[l].n != capUnfinished {
		l--
	}
	if l < 0 {
		m.fail("invalid pattern capture")
	}
	m.caps[l].n = s - m.caps[l].start
	e := m.match(s, pi+1, d+1)
	if e < 0 {
		m.caps[l].n = capUnfinished
	}
	return e
}

// balance matches %bxy at s: x, then anything up to the y that balances
// it. It returns the end, or -1.
func (m *matcher) balance(s int, x, y byte) int {
	if s >= len(m.src) || m.src[s] != x {
		return -1
	}
	depth := 1
	for i := s + 1; i < len(m.src); i++ {
		m.step()
		switch m.src[i] {
		case y:
			if depth--; depth == 0 {
				return i + 1
			}
		case x:
			depth++
		}
	}
	return -1
}

// captureCount is how many values a match yields: its captures, or the
// whole match when the pattern has none (with whole set).
func (m *matcher) captureCount(whole bool) int {
	if m.level == 0 && whole {
		return 1
	}
	return m.level
}

// capture returns capture i of the match [s, e) as a string, or as a
// 1-based position (isPos). Capture 0 of a pattern without captures is the
// whole match.
func (m *matcher) capture(i, s, e int) (text string, pos int, isPos bool, err error) {
	if i >= m.level {
		if i == 0 {
			return m.src[s:e], 0, false, nil
		}
		return "", 0, false, &patternError{msg: "invalid capture index"}
	}
	c := m.caps[i]
	switch c.n {
	case capUnfinished:
		return "", 0, false, &patternError{msg: "unfinished capture"}
	case capPosition:
		return "", c.start + 1, true, nil
	}
	return m.src[c.start : c.start+c.n], 0, false, nil
}
