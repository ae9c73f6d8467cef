package engine

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// lua51Find is a Lua 5.1 script that prints what string.find(arg[1],
// arg[2]) gives, in findResult's format.
const lua51Find = `
local r = {pcall(string.find, arg[1], arg[2])}
if not r[1] then
  local msg = tostring(r[2])
  local cut, i = 0, 1
  while true do
    local j = string.find(msg, ": ", i, true)
    if not j then break end
    cut, i = j + 1, j + 1
  end
  io.write("error ", string.sub(msg, cut + 1))
  return
end
if r[2] == nil then io.write("nil") return end
local out = {}
for i = 2, table.maxn(r) do out[#out + 1] = tostring(r[i]) end
io.write(table.concat(out, " "))
`

// findResult is string.find(s, pat) of the matcher, as lua51Find prints
// it; interrupted is set when it ran out of time.
func findResult(s, pat string) (res string, interrupted bool) {
	if !strings.ContainsAny(pat, specials) {
		i := strings.Index(s, pat)
		if i < 0 {
			return "nil", false
		}
		return strconv.Itoa(i+1) + " " + strconv.Itoa(i+len(pat)), false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	m := newMatcher(ctx, compilePattern(pat, true), s)
	defer m.release()
	st, e, ok, err := m.search(0)
	switch {
	case errors.Is(err, errPatternInterrupted):
		return "", true
	case err != nil:
		return "error " + err.Error(), false
	case !ok:
		return "nil", false
	}
	out := []string{strconv.Itoa(st + 1), strconv.Itoa(e)}
	for i := range m.captureCount(false) {
		text, pos, isPos, err := m.capture(i, st, e)
		switch {
		case err != nil:
			return "error " + err.Error(), false
		case isPos:
			out = append(out, strconv.Itoa(pos))
		default:
			out = append(out, text)
		}
	}
	return strings.Join(out, " "), false
}

// FuzzPattern checks the matcher on any subject and pattern: it never
// panics, the match it finds first is the one a match anchored at that
// position finds, no earlier position matches, and, where the reference
// interpreter lua5.1 is installed, string.find gives what lua5.1 gives.
func FuzzPattern(f *testing.F) {
	for _, seed := range [][2]string{
		{"hello world", "o w"}, {"key = value", "(%w+)%s*=%s*(%w+)"}, {"f(a(b)c)d", "%b()"},
		{"THE (quick) fox", "%f[%a]%a+"}, {"aaa", "a-$"}, {"say 'hi'", "(['\"])(.-)%1"},
		{"abc", "[%a-]+"}, {"x", "%"}, {"x", "[x"}, {"ab", "()a()"}, {"aab", "^(a*)(.-)b$"},
	} {
		f.Add(seed[0], seed[1])
	}
	lua51, _ := exec.LookPath("lua5.1")
	f.Fuzz(func(t *testing.T, s, pat string) {
		if len(s) > 200 || len(pat) > 40 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p := compilePattern(pat, true)
		m := newMatcher(ctx, p, s)
		defer m.release()
		st, e, ok, err := m.search(0)
		if err != nil {
			return // a malformed pattern, or one too slow to check here
		}
		if ok {
			if e < st || e > len(s) {
				t.Fatalf("find(%q, %q): match [%d, %d) out of range", s, pat, st, e)
			}
			if end, err := m.at(st); err != nil || end != e {
				t.Fatalf("find(%q, %q): [%d, %d), but a match at %d ends at %d (%v)", s, pat, st, e, st, end, err)
			}
			if !p.anchored {
				for i := 0; i < st; i++ {
					if end, err := m.at(i); err == nil && end >= 0 {
						t.Fatalf("find(%q, %q) found [%d, %d), but %d matches first (to %d)", s, pat, st, e, i, end)
					}
				}
			}
		}
		if lua51 == "" || strings.ContainsRune(s+pat, 0) {
			return // NUL: Lua 5.1 ends a pattern there, deliberately not us
		}
		got, interrupted := findResult(s, pat)
		if interrupted {
			return
		}
		cmd := exec.Command(lua51, "-", s, pat)
		cmd.Stdin = strings.NewReader(lua51Find)
		want, err := cmd.Output()
		if err != nil {
			t.Fatalf("lua5.1: %v", err)
		}
		if got != string(want) {
			t.Fatalf("string.find(%q, %q): got %q, lua5.1 gives %q", s, pat, got, want)
		}
	})
}
