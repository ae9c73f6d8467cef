package luart

import (
	lua "github.com/yuin/gopher-lua"
)

// NotCallable is gopher-lua's whole message for a call of a value that is
// not a function: it does not say what was called, which for a misspelt
// function name is the one thing the script's author needs.
const NotCallable = "attempt to call a non-function object"

// CallHint names what a chunk called at line when a run ended there with
// NotCallable: "global 'sned' is nil", "field 'conect'". protos are the
// compiled chunks of the file the message names; globals is the table the
// chunk's globals live in, read as it was when the run ended.
//
// As with NilHint, a wrong name is worse than none: the callee of each
// call on the line is read from the bytecode before the call (only within
// one straight run of instructions), a call of a global that holds a
// function now cannot be the one that failed, and a name is given only
// when exactly one call on the line remains. "" when none is certain.
func CallHint(protos []*lua.FunctionProto, line int, globals *lua.LTable) string {
	var hints []string
	unknown := false
	var visit func(p *lua.FunctionProto)
	visit = func(p *lua.FunctionProto) {
		if len(p.DbgSourcePositions) != len(p.Code) {
			unknown = true
			return
		}
		var targets []bool
		for pc, in := range p.Code {
			if op := opcode(in); (op != lua.OP_CALL && op != lua.OP_TAILCALL) || p.DbgSourcePositions[pc] != line {
				continue
			}
			if targets == nil {
				targets = jumpTargets(p.Code)
			}
			kind, name := callee(p, pc, targets)
			switch {
			case kind == "":
				unknown = true
			case kind == "global":
				v := lua.LNil
				if globals != nil {
					v = globals.RawGetString(name)
				}
				if !callable(v) {
					hints = append(hints, "global '"+name+"' is a "+v.Type().String()+" value")
				}
			default:
				hints = append(hints, kind+" '"+name+"'")
			}
		}
		for _, f := range p.FunctionPrototypes {
			visit(f)
		}
	}
	for _, p := range protos {
		visit(p)
	}
	if unknown || len(hints) != 1 {
		return ""
	}
	return hints[0]
}

// callable reports whether calling v can succeed: a function, or a value
// whose metatable has __call. Only tables and userdata have metatables of
// their own, and a metatable shared by a type (strings) is not looked at:
// it would be the engine's, without __call.
func callable(v lua.LValue) bool {
	switch v := v.(type) {
	case *lua.LFunction:
		return true
	case *lua.LTable:
		if mt, ok := v.Metatable.(*lua.LTable); ok {
			return mt.RawGetString("__call") != lua.LNil
		}
	case *lua.LUserData:
		if mt, ok := v.Metatable.(*lua.LTable); ok {
			return mt.RawGetString("__call") != lua.LNil
		}
	}
	return false
}

// callee reads what the CALL at pc calls: the last instruction before it
// that wrote its function register, within the instructions no jump lands
// between. kind is global, field, method or upvalue; "" when not certain.
func callee(p *lua.FunctionProto, pc int, targets []bool) (kind, name string) {
	reg := argA(p.Code[pc])
	for i := pc - 1; i >= 0; i-- {
		if targets[i+1] {
			return "", "" // the register may hold what another path left
		}
		in := p.Code[i]
		op, a, b := opcode(in), argA(in), argB(in)
		switch op {
		case lua.OP_SETTABLE, lua.OP_SETTABLEKS, lua.OP_SETGLOBAL, lua.OP_SETUPVAL, lua.OP_SETLIST,
			lua.OP_EQ, lua.OP_LT, lua.OP_LE, lua.OP_TEST, lua.OP_JMP, lua.OP_CLOSE, lua.OP_NOP:
			continue // writes no register
		case lua.OP_CALL, lua.OP_TAILCALL, lua.OP_VARARG, lua.OP_TFORLOOP, lua.OP_LOADNIL:
			if reg >= a {
				return "", "" // may have written it
			}
			continue
		case lua.OP_SELF:
			if reg == a+1 {
				return "", ""
			}
		}
		if a != reg {
			continue
		}
		switch op {
		case lua.OP_GETGLOBAL:
			if bx := argBx(in); bx < len(p.Constants) {
				if s, ok := p.Constants[bx].(lua.LString); ok {
					return "global", string(s)
				}
			}
		case lua.OP_GETTABLEKS, lua.OP_GETTABLE:
			if s := rkString(p, argC(in)); s != "" {
				return "field", s
			}
		case lua.OP_SELF:
			if s := rkString(p, argC(in)); s != "" {
				return "method", s
			}
		case lua.OP_MOVE:
			// A local: not named, since gopher-lua's ranges of locals
			// are not exact (a block's last local has none), and a
			// wrong name is worse than none.
		case lua.OP_GETUPVAL:
			if b < len(p.DbgUpvalues) {
				return "upvalue", p.DbgUpvalues[b]
			}
		}
		return "", ""
	}
	return "", ""
}
