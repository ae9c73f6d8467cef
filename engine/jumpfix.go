package engine

import (
	"github.com/yuin/gopher-lua/ast"
)

// gopher-lua v1.1.2 compiles some loops wrong. Its jump-to-jump pass walks
// the code forward and, for each jump, follows the chain of jumps it lands
// on, reading each one's operand as a label number. A jump already passed
// over holds a resolved offset instead, read as a label number all the
// same: a backward jump (the end of a while, repeat or generic for loop, a
// goto) that lands on a jump gets a made-up target. A generic for whose
// body starts with `break`, after an earlier loop, runs the first loop's
// body again, loops forever, or jumps past the end of the code and panics
// in the VM.
//
// The engine keeps jumps from landing on jumps: where a loop body, or the
// code after a label, would start with a jump, it starts with a local that
// no script can name, which compiles to one LOADNIL. fixTForLoops
// (chunks.go) stays behind it for the generic for's back jump.

// jumpGuardName is the local that guards a jump target. It is not a Lua
// name, so no script can refer to it.
const jumpGuardName = "(jump target)"

// guardJumpTargets rewrites stmts, and every function and block inside
// them, as described above.
func guardJumpTargets(stmts []ast.Stmt) []ast.Stmt {
	out := stmts[:0:0]
	for i, s := range stmts {
		guardStmt(s)
		if f, ok := s.(*ast.GenericForStmt); ok {
			s = hoistForExprs(f)
		}
		out = append(out, s)
		if _, ok := s.(*ast.LabelStmt); ok && startsWithJump(stmts[i+1:]) {
			out = append(out, jumpGuard(stmts[i+1]))
		}
	}
	return out
}

// guardBody is guardJumpTargets for the body of a loop that is jumped back
// to.
func guardBody(stmts []ast.Stmt, loop ast.Stmt) []ast.Stmt {
	stmts = guardJumpTargets(stmts)
	if startsWithJump(stmts) {
		stmts = append([]ast.Stmt{jumpGuard(loop)}, stmts...)
	}
	return stmts
}

func jumpGuard(at ast.Stmt) ast.Stmt {
	g := &ast.LocalAssignStmt{Names: []string{jumpGuardName}}
	g.SetLine(at.Line())
	g.SetLastLine(at.Line())
	return g
}

func guardStmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		guardExprs(s.Lhs)
		guardExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		guardExprs(s.Exprs)
	case *ast.FuncCallStmt:
		guardExpr(s.Expr)
	case *ast.DoBlockStmt:
		s.Stmts = guardJumpTargets(s.Stmts)
	case *ast.WhileStmt:
		guardExpr(s.Condition)
		s.Stmts = guardBody(s.Stmts, s)
	case *ast.RepeatStmt:
		guardExpr(s.Condition)
		s.Stmts = guardBody(s.Stmts, s)
	case *ast.IfStmt:
		guardExpr(s.Condition)
		s.Then = guardJumpTargets(s.Then)
		s.Else = guardJumpTargets(s.Else)
	case *ast.NumberForStmt:
		guardExpr(s.Init)
		guardExpr(s.Limit)
		guardExpr(s.Step)
		// FORLOOP jumps back by itself; no pass rewrites it.
		s.Stmts = guardJumpTargets(s.Stmts)
	case *ast.GenericForStmt:
		guardExprs(s.Exprs)
		s.Stmts = guardBody(s.Stmts, s)
	case *ast.FuncDefStmt:
		guardExpr(s.Func)
	case *ast.ReturnStmt:
		guardExprs(s.Exprs)
	}
}

func guardExprs(es []ast.Expr) {
	for _, e := range es {
		guardExpr(e)
	}
}

// guardExpr reaches the functions inside an expression.
func guardExpr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.FunctionExpr:
		e.Stmts = guardJumpTargets(e.Stmts)
	case *ast.AttrGetExpr:
		guardExpr(e.Object)
		guardExpr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			guardExpr(f.Key)
			guardExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		guardExpr(e.Func)
		guardExpr(e.Receiver)
		guardExprs(e.Args)
	case *ast.LogicalOpExpr:
		guardExpr(e.Lhs)
		guardExpr(e.Rhs)
	case *ast.RelationalOpExpr:
		guardExpr(e.Lhs)
		guardExpr(e.Rhs)
	case *ast.StringConcatOpExpr:
		guardExpr(e.Lhs)
		guardExpr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		guardExpr(e.Lhs)
		guardExpr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		guardExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		guardExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		guardExpr(e.Expr)
	}
}

// startsWithJump reports whether the code of stmts may start with a jump.
// It errs towards yes: a guard too many costs one instruction.
func startsWithJump(stmts []ast.Stmt) bool {
	for _, s := range stmts {
		switch s := s.(type) {
		case *ast.BreakStmt, *ast.GotoStmt:
			return true
		case *ast.LabelStmt:
			// No code: what follows comes first.
		case *ast.DoBlockStmt:
			if len(s.Stmts) > 0 {
				return startsWithJump(s.Stmts) || onlyLabels(s.Stmts)
			}
		case *ast.IfStmt:
			// A constant condition compiles to a jump, or to nothing.
			return constFirst(s.Condition)
		case *ast.WhileStmt:
			return constFirst(s.Condition)
		case *ast.RepeatStmt:
			return len(s.Stmts) == 0 || startsWithJump(s.Stmts) || onlyLabels(s.Stmts)
		default:
			return false
		}
	}
	return false
}

func onlyLabels(stmts []ast.Stmt) bool {
	for _, s := range stmts {
		if _, ok := s.(*ast.LabelStmt); !ok {
			return false
		}
	}
	return true
}

// constFirst reports whether a condition's first operand is a constant,
// which gopher-lua compiles to a jump or to no code at all.
func constFirst(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.TrueExpr, *ast.FalseExpr, *ast.NilExpr, *ast.NumberExpr, *ast.StringExpr:
		return true
	case *ast.UnaryNotOpExpr:
		return constFirst(e.Expr)
	case *ast.LogicalOpExpr:
		return constFirst(e.Lhs)
	}
	return false
}

// gopher-lua v1.1.2 also compiles the expressions of a generic for wrong
// where a field of a call's result is called: for
// `for x in f().iter() do`, it loads the key "iter" into the register that
// holds f's result and indexes the key by itself, so the loop calls nil
// ("attempt to call a non-function object"), or a string method by chance.
// The same expressions compile right as the values of a local statement,
// so such a loop becomes
//
//	do local (for 1), (for 2), (for 3) = f().iter(); for x in (for 1), (for 2), (for 3) do ... end end
//
// which evaluates them once, adjusted to three values, as the for itself
// does. The locals' names are no Lua names, so no script can refer to them.
func hoistForExprs(f *ast.GenericForStmt) ast.Stmt {
	if !callsFieldOfCall(f.Exprs) {
		return f
	}
	names := []string{"(for 1)", "(for 2)", "(for 3)"}
	local := &ast.LocalAssignStmt{Names: names, Exprs: f.Exprs}
	local.SetLine(f.Line())
	local.SetLastLine(f.Line())
	f.Exprs = make([]ast.Expr, len(names))
	for i, n := range names {
		id := &ast.IdentExpr{Value: n}
		id.SetLine(f.Line())
		id.SetLastLine(f.Line())
		f.Exprs[i] = id
	}
	block := &ast.DoBlockStmt{Stmts: []ast.Stmt{local, f}}
	block.SetLine(f.Line())
	block.SetLastLine(f.LastLine())
	return block
}

// callsFieldOfCall reports whether es holds an index (t.k, t[k], t:m) of
// a call's result, at any depth outside nested functions: the shape the
// generic for miscompiles.
func callsFieldOfCall(es []ast.Expr) bool {
	found := false
	var walk func(e ast.Expr)
	walk = func(e ast.Expr) {
		switch e := e.(type) {
		case *ast.AttrGetExpr:
			if isCall(e.Object) {
				found = true
			}
			walk(e.Object)
			walk(e.Key)
		case *ast.FuncCallExpr:
			if e.Receiver != nil && isCall(e.Receiver) {
				found = true
			}
			walk(e.Func)
			walk(e.Receiver)
			for _, a := range e.Args {
				walk(a)
			}
		case *ast.LogicalOpExpr:
			walk(e.Lhs)
			walk(e.Rhs)
		case *ast.RelationalOpExpr:
			walk(e.Lhs)
			walk(e.Rhs)
		case *ast.StringConcatOpExpr:
			walk(e.Lhs)
			walk(e.Rhs)
		case *ast.ArithmeticOpExpr:
			walk(e.Lhs)
			walk(e.Rhs)
		case *ast.UnaryMinusOpExpr:
			walk(e.Expr)
		case *ast.UnaryNotOpExpr:
			walk(e.Expr)
		case *ast.UnaryLenOpExpr:
			walk(e.Expr)
		case *ast.TableExpr:
			for _, f := range e.Fields {
				walk(f.Key)
				walk(f.Value)
			}
		}
	}
	for _, e := range es {
		walk(e)
	}
	return found
}

func isCall(e ast.Expr) bool {
	_, ok := e.(*ast.FuncCallExpr)
	return ok
}
