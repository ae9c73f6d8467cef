package luart

import (
	"reflect"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// A call that returns nil where a script expected a table (etcd.get of a
// missing key) makes the next line fail with gopher-lua's bare "attempt to
// index a non-table object(nil) with key 'value'". NoteNil and NilHint let
// the engine name the call in that message.
//
// A wrong hint is worse than none, so the hint is given only when the
// error is certain to come from that nil. When the Go function returns nil,
// NoteNil reads the caller's bytecode from the CALL instruction on: the
// nil lands in the CALL's first result register, and the instructions
// after it are followed while none can run code or jump (loads, moves,
// reads of globals from an environment without a metatable). If one of
// them indexes a register that still holds the nil, that instruction fails
// at once with a message NoteNil knows in advance (file, line, key), and
// nothing else runs in between that could raise the same message. The
// record is dropped when an error is caught (ForgetNil), so that a caught
// failure cannot leave it behind for a later, different one.

// nilNoteKey names the record in the registry; coroutines share it.
const nilNoteKey = "etcdscript.nilnote"

// nilNote is the failure NoteNil expects.
type nilNote struct {
	thread *lua.LState // the thread that will fail
	prefix string      // the start of the error message: "file:line: attempt to index ..."
	key    string      // the key of the message, "" when not known in advance
	hint   string
}

// notIndexable is how gopher-lua words indexing nil.
const notIndexable = "attempt to index a non-table object(nil) with key '"

// NoteNil records that the Go function running on L is about to return nil
// as the result of call (`etcd.get("cfg/x")`), for the reason given ("the
// key does not exist"), and idiom, the way to test for it (`local kv =
// etcd.get(k); if kv then ... end`). It records nothing unless the calling
// Lua code is certain to index that nil next (see above).
func NoteNil(L *lua.LState, call, reason, idiom string) {
	reg, ok := L.Get(lua.RegistryIndex).(*lua.LTable)
	if !ok {
		return
	}
	reg.RawSetString(nilNoteKey, lua.LNil)
	n, line := expectNilIndex(L)
	if n == nil {
		return
	}
	n.hint = "(the nil is what " + call + " returned on line " + strconv.Itoa(line) + ": " + reason +
		"; test for it first: " + idiom + ")"
	ud := L.NewUserData()
	ud.Value = n
	reg.RawSetString(nilNoteKey, ud)
}

// ForgetNil drops what NoteNil recorded. Code that catches an error and
// does not raise it again (pcall, a retry) calls it: the failure NoteNil
// expected may be the one caught.
func ForgetNil(L *lua.LState) {
	reg, ok := L.Get(lua.RegistryIndex).(*lua.LTable)
	if !ok {
		return
	}
	if reg.RawGetString(nilNoteKey) != lua.LNil {
		reg.RawSetString(nilNoteKey, lua.LNil)
	}
}

// NilHint returns the hint for msg, the error message that ended a run on
// L (the thread that ran the script), and drops the record: the words to
// append to msg when the record says msg is the failure NoteNil expected,
// "" otherwise.
func NilHint(L *lua.LState, msg string) string {
	reg, ok := L.Get(lua.RegistryIndex).(*lua.LTable)
	if !ok {
		return ""
	}
	ud, ok := reg.RawGetString(nilNoteKey).(*lua.LUserData)
	if !ok {
		return ""
	}
	reg.RawSetString(nilNoteKey, lua.LNil)
	n, ok := ud.Value.(*nilNote)
	if !ok || n.thread != L || !strings.HasPrefix(msg, n.prefix) {
		return ""
	}
	rest := msg[len(n.prefix):]
	if n.key != "" && !strings.HasPrefix(rest, n.key+"'") {
		return ""
	}
	return n.hint
}

// expectNilIndex reads the code of L's caller after its current CALL and
// returns the failure that indexing the CALL's nil result will raise, and
// the line of the CALL; nil when that failure is not certain.
func expectNilIndex(L *lua.LState) (*nilNote, int) {
	if L.GetMetatable(lua.LNil) != lua.LNil {
		return nil, 0 // indexing nil would call its __index
	}
	dbg, ok := L.GetStack(1)
	if !ok {
		return nil, 0
	}
	fv, err := L.GetInfo("f", dbg, lua.LNil)
	if err != nil {
		return nil, 0
	}
	fn, ok := fv.(*lua.LFunction)
	if !ok || fn.IsG || fn.Proto == nil {
		return nil, 0
	}
	pc, ok := framePC(dbg)
	if !ok {
		return nil, 0
	}
	p := fn.Proto
	call := pc - 1 // the frame's pc is past the instruction it runs
	if call < 0 || call >= len(p.Code) || len(p.DbgSourcePositions) != len(p.Code) {
		return nil, 0
	}
	inst := p.Code[call]
	if opcode(inst) != lua.OP_CALL || argC(inst) == 1 {
		return nil, 0 // a tail call, or a call whose result is dropped
	}
	pureGlobals := L.GetMetatable(fn.Env) == lua.LNil
	targets := jumpTargets(p.Code)
	// nilRegs are the registers that hold the nil.
	nilRegs := map[int]bool{argA(inst): true}
	for i := call + 1; i < len(p.Code); i++ {
		if targets[i] {
			return nil, 0 // reached from elsewhere too
		}
		in := p.Code[i]
		op, a, b := opcode(in), argA(in), argB(in)
		switch op {
		case lua.OP_GETTABLE, lua.OP_GETTABLEKS, lua.OP_SELF:
			if nilRegs[b] {
				return failureAt(L, p, i, rkString(p, argC(in))), p.DbgSourcePositions[call]
			}
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS:
			if nilRegs[a] {
				return failureAt(L, p, i, rkString(p, b)), p.DbgSourcePositions[call]
			}
		}
		// Anything else must neither run code nor jump; follow what it
		// writes.
		switch op {
		case lua.OP_MOVE:
			if nilRegs[b] {
				nilRegs[a] = true
			} else {
				delete(nilRegs, a)
			}
		case lua.OP_LOADK, lua.OP_GETUPVAL, lua.OP_NEWTABLE, lua.OP_NOT:
			delete(nilRegs, a)
		case lua.OP_LOADBOOL:
			if argC(in) != 0 {
				return nil, 0 // skips the next instruction
			}
			delete(nilRegs, a)
		case lua.OP_LOADNIL:
			for r := a; r <= b; r++ {
				delete(nilRegs, r)
			}
		case lua.OP_GETGLOBAL:
			if !pureGlobals {
				return nil, 0
			}
			delete(nilRegs, a)
		case lua.OP_NOP:
		default:
			return nil, 0
		}
		if len(nilRegs) == 0 {
			return nil, 0
		}
	}
	return nil, 0
}

// failureAt is the failure of indexing nil at instruction pc of p, with
// key when it is a constant.
func failureAt(L *lua.LState, p *lua.FunctionProto, pc int, key string) *nilNote {
	return &nilNote{
		thread: L,
		prefix: p.SourceName + ":" + strconv.Itoa(p.DbgSourcePositions[pc]) + ": " + notIndexable,
		key:    key,
	}
}

// jumpTargets marks the instructions that some instruction of code jumps
// or skips to.
func jumpTargets(code []uint32) []bool {
	t := make([]bool, len(code)+2)
	mark := func(i int) {
		if i >= 0 && i < len(t) {
			t[i] = true
		}
	}
	for i, in := range code {
		switch opcode(in) {
		case lua.OP_JMP, lua.OP_FORLOOP, lua.OP_FORPREP:
			mark(i + 1 + argSbx(in))
		case lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_TESTSET, lua.OP_TFORLOOP:
			mark(i + 2)
		case lua.OP_LOADBOOL:
			if argC(in) != 0 {
				mark(i + 2)
			}
		}
	}
	return t
}

// rkString returns the constant string of an RK operand, "" when the
// operand is a register or not a string.
func rkString(p *lua.FunctionProto, rk int) string {
	const constBit = 1 << 8
	if rk&constBit == 0 {
		return ""
	}
	i := rk &^ constBit
	if i >= len(p.Constants) {
		return ""
	}
	if s, ok := p.Constants[i].(lua.LString); ok {
		return string(s)
	}
	return ""
}

// The instruction layout of gopher-lua (Lua 5.1's): opcode in the top 6
// bits, then A (8 bits), C (9) and B (9); Bx is C and B together.
func opcode(in uint32) int { return int(in >> 26) }
func argA(in uint32) int   { return int(in>>18) & 0xff }
func argB(in uint32) int   { return int(in & 0x1ff) }
func argC(in uint32) int   { return int(in>>9) & 0x1ff }
func argBx(in uint32) int  { return int(in & 0x3ffff) }
func argSbx(in uint32) int { return argBx(in) - (1<<18-1)>>1 }

// framePC returns the pc of the frame dbg describes. gopher-lua keeps it
// unexported (lua.Debug offers only the line, and a line may hold many
// calls), so it is read by reflection; false when that fails, as it would
// if a later gopher-lua changed its frames, and then no hint is given.
func framePC(dbg *lua.Debug) (int, bool) {
	v := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, false
	}
	pc := v.Elem().FieldByName("Pc")
	if !pc.IsValid() || pc.Kind() != reflect.Int {
		return 0, false
	}
	return int(pc.Int()), true
}
