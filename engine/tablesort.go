package engine

import (
	"math/bits"

	lua "github.com/yuin/gopher-lua"

	"github.com/etcdscript/etcdscript/luart"
)

// tableSort is table.sort(t [, comp]) as in Lua 5.1: it sorts t[1..#t] in
// place (not stably) by comp, or by < without one, and raises "invalid
// order function for sorting" when comp is found to be inconsistent (a
// partition runs off its range, as Lua's own check does).
//
// Unlike gopher-lua's, it looks at the run's context every so many
// comparisons: a Lua comp is interrupted by the VM, but the sort's own loop
// over a million elements, or a comp written in Go, is not. The elements
// are sorted in a Go slice and written back at the end, so a sort that
// raises (a failing comp, the run's timeout) leaves t as it was.
func (r *run) tableSort(L *lua.LState) int {
	t := L.CheckTable(1)
	var comp lua.LValue
	if v := L.Get(2); v != lua.LNil {
		comp = L.CheckFunction(2)
	}
	n := t.Len()
	if n < 2 {
		return 0
	}
	s := &sorter{L: L, r: r, comp: comp, poll: luart.NewPoll(r.vmCtx), a: make([]lua.LValue, n)}
	for i := range s.a {
		s.a[i] = t.RawGetInt(i + 1)
	}
	s.quick(0, n-1, 2*bits.Len(uint(n)))
	for i, v := range s.a {
		t.RawSetInt(i+1, v)
	}
	return 0
}

type sorter struct {
	L    *lua.LState
	r    *run
	comp lua.LValue // nil: <
	poll luart.Poll
	a    []lua.LValue
}

// less is comp(x, y), or x < y with Lua's rules (metamethods included).
func (s *sorter) less(x, y lua.LValue) bool {
	if s.poll.Step() {
		s.r.rt.RaiseEnded(s.L, "table.sort", s.r.vmCtx)
	}
	if s.comp == nil {
		switch xv := x.(type) {
		case lua.LNumber:
			if yv, ok := y.(lua.LNumber); ok {
				return xv < yv
			}
		case lua.LString:
			if yv, ok := y.(lua.LString); ok {
				return xv < yv
			}
		}
		return s.L.LessThan(x, y)
	}
	L := s.L
	L.Push(s.comp)
	L.Push(x)
	L.Push(y)
	L.Call(2, 1)
	res := lua.LVAsBool(L.Get(-1))
	L.Pop(1)
	return res
}

func (s *sorter) swap(i, j int) { s.a[i], s.a[j] = s.a[j], s.a[i] }

// order3 puts a[i] <= a[j] <= a[k].
func (s *sorter) order3(i, j, k int) {
	if s.less(s.a[j], s.a[i]) {
		s.swap(i, j)
	}
	if s.less(s.a[k], s.a[j]) {
		s.swap(j, k)
		if s.less(s.a[j], s.a[i]) {
			s.swap(i, j)
		}
	}
}

func (s *sorter) invalidOrder() {
	s.L.RaiseError("invalid order function for sorting")
}

// quick sorts a[lo..hi] by quicksort on a median of three; past depth
// levels of recursion (a comparator or data that defeats the pivot) it
// finishes with heapsort, so that it ends for any comparator.
func (s *sorter) quick(lo, hi, depth int) {
	for hi-lo >= 3 {
		if depth == 0 {
			s.heap(lo, hi)
			return
		}
		depth--
		mid := int(uint(lo+hi) >> 1)
		s.order3(lo, mid, hi)
		// a[lo] <= pivot <= a[hi] stop the scans below for a consistent
		// comparator; one that runs past them is not.
		s.swap(mid, hi-1)
		pivot := s.a[hi-1]
		i, j := lo, hi-1
		for {
			for i++; s.less(s.a[i], pivot); i++ {
				if i >= hi-1 {
					s.invalidOrder()
				}
			}
			for j--; s.less(pivot, s.a[j]); j-- {
				if j <= lo {
					s.invalidOrder()
				}
			}
			if j < i {
				break
			}
			s.swap(i, j)
		}
		s.swap(i, hi-1)
		// Recurse into the smaller side, loop on the larger: the stack
		// stays O(log n).
		if i-lo < hi-i {
			s.quick(lo, i-1, depth)
			lo = i + 1
		} else {
			s.quick(i+1, hi, depth)
			hi = i - 1
		}
	}
	switch hi - lo {
	case 1:
		if s.less(s.a[hi], s.a[lo]) {
			s.swap(lo, hi)
		}
	case 2:
		s.order3(lo, lo+1, hi)
	}
}

// heap sorts a[lo..hi] by heapsort.
func (s *sorter) heap(lo, hi int) {
	n := hi - lo + 1
	for i := n/2 - 1; i >= 0; i-- {
		s.siftDown(lo, i, n)
	}
	for end := n - 1; end > 0; end-- {
		s.swap(lo, lo+end)
		s.siftDown(lo, 0, end)
	}
}

func (s *sorter) siftDown(lo, root, n int) {
	for {
		child := 2*root + 1
		if child >= n {
			return
		}
		if child+1 < n && s.less(s.a[lo+child], s.a[lo+child+1]) {
			child++
		}
		if !s.less(s.a[lo+root], s.a[lo+child]) {
			return
		}
		s.swap(lo+root, lo+child)
		root = child
	}
}
