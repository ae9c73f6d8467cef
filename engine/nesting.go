package engine

import (
	"reflect"

	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// maxSyntaxDepth bounds how deeply a chunk's syntax may nest: blocks,
// table constructors, calls, unary operators. gopher-lua's compiler (and
// guardJumpTargets) recurse once per level, and a chunk nested a million
// deep, easy to build with load(string.rep("{", n) .. ...), overflowed
// the Go stack: a fatal error no recover stops. Lua 5.1 has such a bound
// too ("chunk has too many syntax levels").
const maxSyntaxDepth = 1000

// minNestedSize is the least source size that can nest past
// maxSyntaxDepth (a level takes at least two bytes): smaller chunks are not
// walked, so that load of a short string costs nothing more.
const minNestedSize = 2 * maxSyntaxDepth

// checkNesting returns a syntax error when the tree of chunk nests deeper
// than maxSyntaxDepth. It walks the tree with a stack of its own, not by
// recursion, for the reason it exists.
func checkNesting(name string, src []byte, chunk []ast.Stmt) error {
	if len(src) < minNestedSize {
		return nil
	}
	type item struct {
		v     reflect.Value
		depth int
	}
	stack := []item{{reflect.ValueOf(chunk), 0}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		v := it.v
		switch v.Kind() {
		case reflect.Interface:
			if !v.IsNil() {
				stack = append(stack, item{v.Elem(), it.depth})
			}
		case reflect.Pointer:
			if v.IsNil() || v.Elem().Kind() != reflect.Struct {
				continue
			}
			// Expressions and statements are the levels; a table's
			// fields and a function's parameters are parts of one.
			depth := it.depth
			switch v.Interface().(type) {
			case ast.Expr, ast.Stmt:
				depth++
			}
			if depth > maxSyntaxDepth {
				line := 0
				if p, ok := v.Interface().(ast.PositionHolder); ok {
					line = p.Line()
				}
				return &parse.Error{
					Pos:     ast.Position{Source: name, Line: line},
					Message: "chunk has too many syntax levels (more than 1000)",
				}
			}
			stack = append(stack, item{v.Elem(), depth})
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if k := v.Field(i).Kind(); k == reflect.Interface || k == reflect.Pointer || k == reflect.Slice || k == reflect.Struct {
					stack = append(stack, item{v.Field(i), it.depth})
				}
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				stack = append(stack, item{v.Index(i), it.depth})
			}
		}
	}
	return nil
}
