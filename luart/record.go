package luart

import (
	"fmt"
	"maps"
	"reflect"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// A Shape makes tables with one fixed list of string keys, such as the
// key-value tables of the etcd module, which a scan or a watch makes by the
// hundred thousand. gopher-lua's RawSetString, field by field, grows the
// table's key list and index as it goes and boxes each key twice: 14
// allocations and about 1.2 KB for a key-value. A Shape fills a new table's
// fields at once and shares one immutable key list among its tables: 9
// allocations and about 0.85 KB, in half the time.
//
// It writes gopher-lua's unexported table fields, so it checks the layout
// of lua.LTable against the layout it was written for (v1.1.2) the first
// time it is used, and falls back to RawSetString if they differ. Tables it
// makes are ordinary tables: they iterate in the shape's key order (as
// RawSetString in that order would) and take new keys, removals and
// metatables as any other table does.
type Shape struct {
	names []string
	keys  []lua.LValue       // shared by the shape's tables; len == cap, so an append copies
	index map[lua.LValue]int // copied into each table
}

// NewShape returns a Shape for the string keys names, in that order. The
// names must be distinct.
func NewShape(names ...string) *Shape {
	s := &Shape{names: names, keys: make([]lua.LValue, len(names)), index: make(map[lua.LValue]int, len(names))}
	for i, n := range names {
		if _, dup := s.index[lua.LString(n)]; dup {
			panic(fmt.Sprintf("luart.NewShape: key %q given twice", n))
		}
		s.keys[i] = lua.LString(n)
		s.index[lua.LString(n)] = i
	}
	return s
}

// New returns a table with the shape's keys set to values, in order. A nil
// or lua.LNil value leaves its key out. New panics if the number of values
// is not the number of keys.
func (s *Shape) New(values ...lua.LValue) *lua.LTable {
	if len(values) != len(s.names) {
		panic(fmt.Sprintf("luart.Shape.New: %d values for %d keys", len(values), len(s.names)))
	}
	if !tableLayoutOK {
		t := &lua.LTable{Metatable: lua.LNil}
		for i, v := range values {
			if v != nil && v != lua.LNil {
				t.RawSetString(s.names[i], v)
			}
		}
		return t
	}
	t := &lua.LTable{Metatable: lua.LNil}
	m := (*tableLayout)(unsafe.Pointer(t))
	m.strdict = make(map[string]lua.LValue, len(values))
	for i, v := range values {
		// An absent key stays in the shared key list, as a key set and
		// then removed stays in gopher-lua's: iteration skips it.
		if v != nil && v != lua.LNil {
			m.strdict[s.names[i]] = v
		}
	}
	m.keys = s.keys
	m.k2i = maps.Clone(s.index)
	return t
}

// tableLayout is lua.LTable of gopher-lua v1.1.2, field for field.
type tableLayout struct {
	Metatable lua.LValue
	array     []lua.LValue
	dict      map[lua.LValue]lua.LValue
	strdict   map[string]lua.LValue
	keys      []lua.LValue
	k2i       map[lua.LValue]int
}

// tableLayoutOK reports whether lua.LTable has tableLayout's fields: same
// names, types and offsets, in the same order, and nothing else.
var tableLayoutOK = sameLayout(reflect.TypeFor[lua.LTable](), reflect.TypeFor[tableLayout]())

func sameLayout(a, b reflect.Type) bool {
	if a.Size() != b.Size() || a.NumField() != b.NumField() {
		return false
	}
	for i := range a.NumField() {
		fa, fb := a.Field(i), b.Field(i)
		if fa.Name != fb.Name || fa.Type != fb.Type || fa.Offset != fb.Offset {
			return false
		}
	}
	return true
}
