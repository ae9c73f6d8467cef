package stdlib

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"
	yaml "go.yaml.in/yaml/v3"

	"github.com/etcdscript/etcdscript/luart"
)

var yamlEncodeOptions = luart.NewOptionSet("indent", "sort_keys")

// Aliases may copy a value many times, and a few aliases of aliases expand
// to billions of values from a few lines. Copies are allowed freely up to
// aliasFreeCopies, beyond that only up to aliasRatio times the values
// written out in the document.
const (
	aliasFreeCopies = 100_000
	aliasRatio      = 10
)

// YAML is the yaml module:
//
//	yaml.encode(v [, {indent = n, sort_keys = bool}]) -> string
//	yaml.decode(s) -> value, ...   one value per document
//	yaml.null      the null sentinel, the same value as json.null
//	yaml.array([t]) -> t, marked as an array
//
// The mapping of Lua values follows json's (see the package doc), with the
// differences YAML allows: number keys stay numbers, NaN and infinities are
// written (.nan, .inf), and a string that is not valid UTF-8 is written as
// !!binary rather than refused. indent defaults to 2 spaces.
//
// Decoding follows aliases and merge keys (<<). Scalars become Lua values
// by their YAML type: null, booleans, numbers; !!binary is decoded to its
// bytes; timestamps and other tags stay strings. An empty input decodes to
// nothing (no values).
func YAML(rt *luart.Runtime) lua.LGFunction {
	return loader(func(L *lua.LState) *lua.LTable {
		m := moduleTable(L, map[string]lua.LGFunction{
			"encode": func(L *lua.LState) int { return yamlEncode(rt, L) },
			"decode": func(L *lua.LState) int { return yamlDecode(rt, L) },
			"array":  arrayFunc("yaml.array"),
		})
		m.RawSetString("null", luart.Null(L))
		return m
	})
}

func yamlEncode(rt *luart.Runtime, L *lua.LState) int {
	a := luart.Args{L: L, Fn: "yaml.encode"}
	v := a.Any(1, "value")
	o := a.Options(2, "opts", yamlEncodeOptions)
	indent := o.Int("indent", 2)
	if indent < 1 || indent > maxIndent {
		o.Fail("indent", "indent must be 1 to %d spaces, got %d", maxIndent, indent)
	}
	out, err := encodeYAML(L.Context(), v, int(indent), o.Bool("sort_keys", true))
	if err != nil {
		raiseIfEnded(rt, L, "yaml.encode")
		luart.Raise(L, &luart.Error{Code: luart.CodeInvalidArgument, Op: "yaml.encode", Message: err.Error(), Cause: err})
	}
	L.Push(lua.LString(out))
	return 1
}

func yamlDecode(rt *luart.Runtime, L *lua.LState) int {
	a := luart.Args{L: L, Fn: "yaml.decode"}
	s := a.String(1, "s")
	docs, err := DecodeYAML(L, s)
	if err != nil {
		raiseIfEnded(rt, L, "yaml.decode")
		luart.Raise(L, &luart.Error{Code: luart.CodeInvalidArgument, Op: "yaml.decode", Message: err.Error(), Cause: err})
	}
	for _, d := range docs {
		L.Push(d)
	}
	return len(docs)
}

// EncodeYAML encodes v as one YAML document indented by indent spaces.
func EncodeYAML(v lua.LValue, indent int, sortKeys bool) ([]byte, error) {
	return encodeYAML(nil, v, indent, sortKeys)
}

// encodeYAML is EncodeYAML that gives up with ctx's error when ctx ends (a
// nil ctx never does).
func encodeYAML(ctx context.Context, v lua.LValue, indent int, sortKeys bool) ([]byte, error) {
	e := &yamlEncoder{sortKeys: sortKeys, ctx: ctx, poll: luart.NewPoll(ctx)}
	n, err := e.node(v)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// The emitter cannot be stopped but by its writer failing.
	enc := yaml.NewEncoder(ctxWriter{w: &buf, ctx: ctx})
	enc.SetIndent(indent)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// yamlEncoder builds the YAML node tree of a Lua value.
type yamlEncoder struct {
	sortKeys bool
	stack    []*lua.LTable
	path     valuePath
	ctx      context.Context
	poll     luart.Poll
}

func (e *yamlEncoder) fail(problem string) error {
	return &encodeError{path: e.path.String(), problem: problem}
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func (e *yamlEncoder) node(v lua.LValue) (*yaml.Node, error) {
	if e.poll.Step() {
		return nil, e.ctx.Err()
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return scalar("!!null", "null"), nil
	case lua.LBool:
		return scalar("!!bool", strconv.FormatBool(bool(x))), nil
	case lua.LNumber:
		return yamlNumber(float64(x)), nil
	case lua.LString:
		return yamlString(string(x)), nil
	case *lua.LTable:
		return e.table(x)
	case *lua.LUserData:
		if luart.IsNull(x) {
			return scalar("!!null", "null"), nil
		}
		if le, ok := luart.FromValue(x); ok {
			m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			add := func(k string, v *yaml.Node) { m.Content = append(m.Content, scalar("!!str", k), v) }
			add("code", yamlString(le.Code))
			if le.Key != "" {
				add("key", yamlString(le.Key))
			}
			add("message", yamlString(le.Message))
			add("op", yamlString(le.Op))
			add("retryable", scalar("!!bool", strconv.FormatBool(le.Retryable)))
			return m, nil
		}
		return nil, e.fail("userdata")
	}
	return nil, e.fail(typeName(v))
}

func yamlNumber(f float64) *yaml.Node {
	switch {
	case math.IsNaN(f):
		return scalar("!!float", ".nan")
	case math.IsInf(f, 1):
		return scalar("!!float", ".inf")
	case math.IsInf(f, -1):
		return scalar("!!float", "-.inf")
	}
	b, _ := appendNumber(nil, f)
	if f == math.Trunc(f) && math.Abs(f) <= luart.MaxExactInt {
		return scalar("!!int", string(b))
	}
	s := string(b)
	// YAML floats need a dot or an exponent to read back as floats.
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return scalar("!!float", s)
}

func yamlString(s string) *yaml.Node {
	if !utf8.ValidString(s) {
		return scalar("!!binary", base64.StdEncoding.EncodeToString([]byte(s)))
	}
	return scalar("!!str", s)
}

func (e *yamlEncoder) table(t *lua.LTable) (*yaml.Node, error) {
	for _, s := range e.stack {
		if s == t {
			return nil, e.fail("cycle (the table contains itself)")
		}
	}
	if len(e.stack) >= maxDepth {
		return nil, e.fail("nested deeper than 1000 levels")
	}
	e.stack = append(e.stack, t)
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()

	s, n, problem := tableShape(t)
	if problem != "" {
		return nil, e.fail(problem)
	}
	if s == shapeArray {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if n == 0 {
			seq.Style = yaml.FlowStyle
		}
		for i := 1; i <= n; i++ {
			e.path = append(e.path, lua.LNumber(i))
			c, err := e.node(t.RawGetInt(i))
			if err != nil {
				return nil, err
			}
			e.path = e.path[:len(e.path)-1]
			seq.Content = append(seq.Content, c)
		}
		return seq, nil
	}
	entries, problem := objectEntries(t, e.sortKeys)
	if problem != "" {
		return nil, e.fail(problem)
	}
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if len(entries) == 0 {
		m.Style = yaml.FlowStyle
	}
	for _, en := range entries {
		var k *yaml.Node
		if num, ok := en.key.(lua.LNumber); ok {
			k = yamlNumber(float64(num))
		} else {
			k = yamlString(en.name)
		}
		e.path = append(e.path, en.key)
		c, err := e.node(en.value)
		if err != nil {
			return nil, err
		}
		e.path = e.path[:len(e.path)-1]
		m.Content = append(m.Content, k, c)
	}
	return m, nil
}

// DecodeYAML decodes every document of s into Lua values in L. It returns
// the error of L's context (L.Context()) if that ends first.
func DecodeYAML(L *lua.LState, s string) ([]lua.LValue, error) {
	ctx := L.Context()
	// The parser cannot be stopped but by its reader failing; it reads
	// its input a few hundred bytes at a time.
	dec := yaml.NewDecoder(ctxReader{r: strings.NewReader(s), ctx: ctx})
	d := &yamlDecoder{L: L, null: luart.Null(L), ctx: ctx, poll: luart.NewPoll(ctx)}
	var docs []lua.LValue
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			if ctx != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
		}
		v, err := d.value(&doc, 0)
		if err != nil {
			return nil, err
		}
		docs = append(docs, v)
	}
}

// yamlDecoder turns YAML nodes into Lua values.
type yamlDecoder struct {
	L       *lua.LState
	null    lua.LValue
	inAlias int
	direct  int
	copies  int
	ctx     context.Context
	poll    luart.Poll
}

func (d *yamlDecoder) fail(n *yaml.Node, problem string) error {
	return errors.New("line " + strconv.Itoa(n.Line) + ", column " + strconv.Itoa(n.Column) + ": " + problem)
}

func (d *yamlDecoder) value(n *yaml.Node, depth int) (lua.LValue, error) {
	if d.poll.Step() {
		return nil, d.ctx.Err()
	}
	if d.inAlias > 0 {
		d.copies++
		if d.copies > aliasFreeCopies && d.copies > aliasRatio*d.direct {
			return nil, d.fail(n, "aliases expand the document too much (aliases of aliases?)")
		}
	} else {
		d.direct++
	}
	if depth > maxDepth {
		return nil, d.fail(n, "nested deeper than 1000 levels")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return d.null, nil
		}
		return d.value(n.Content[0], depth)
	case yaml.AliasNode:
		d.inAlias++
		defer func() { d.inAlias-- }()
		return d.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		t := luart.NewArray(d.L, len(n.Content))
		for i, c := range n.Content {
			v, err := d.value(c, depth+1)
			if err != nil {
				return nil, err
			}
			t.RawSetInt(i+1, v)
		}
		return t, nil
	case yaml.MappingNode:
		t := d.L.CreateTable(0, len(n.Content)/2)
		if err := d.mapping(t, n, depth, false); err != nil {
			return nil, err
		}
		return t, nil
	case yaml.ScalarNode:
		return d.scalar(n)
	}
	return nil, d.fail(n, "unsupported YAML node")
}

// mapping fills t from a mapping node. Keys given in the mapping win over
// keys merged in with <<, whatever their order; with merged set, t's
// existing keys win (a merge never overrides).
func (d *yamlDecoder) mapping(t *lua.LTable, n *yaml.Node, depth int, merged bool) error {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
			merges = append(merges, vn)
			continue
		}
		k, err := d.key(kn, depth)
		if err != nil {
			return err
		}
		if merged && t.RawGet(k) != lua.LNil {
			continue
		}
		v, err := d.value(vn, depth+1)
		if err != nil {
			return err
		}
		t.RawSet(k, v)
	}
	for _, m := range merges {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		sources := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			sources = m.Content
		}
		for _, src := range sources {
			if src.Kind == yaml.AliasNode {
				src = src.Alias
			}
			if src.Kind != yaml.MappingNode {
				return d.fail(src, "a merge (<<) needs a mapping or a list of mappings")
			}
			if err := d.mapping(t, src, depth+1, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// key converts a mapping key: strings, numbers and booleans are Lua keys;
// null and collections are not.
func (d *yamlDecoder) key(n *yaml.Node, depth int) (lua.LValue, error) {
	k, err := d.value(n, depth+1)
	if err != nil {
		return nil, err
	}
	switch kv := k.(type) {
	case lua.LString, lua.LBool:
		return k, nil
	case lua.LNumber:
		if math.IsNaN(float64(kv)) {
			return nil, d.fail(n, "a NaN key cannot be a Lua table key")
		}
		return k, nil
	}
	return nil, d.fail(n, "unsupported mapping key ("+n.ShortTag()+"): keys are strings, numbers or booleans")
}

func (d *yamlDecoder) scalar(n *yaml.Node) (lua.LValue, error) {
	switch n.ShortTag() {
	case "!!null":
		return d.null, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, d.fail(n, err.Error())
		}
		return lua.LBool(b), nil
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			return lua.LNumber(i), nil
		}
		// Beyond int64: a float, like a JSON reader on doubles.
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, d.fail(n, "integer "+n.Value+" is out of range")
		}
		return lua.LNumber(f), nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, d.fail(n, err.Error())
		}
		return lua.LNumber(f), nil
	case "!!binary":
		b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), ""))
		if err != nil {
			return nil, d.fail(n, "invalid !!binary: "+err.Error())
		}
		return lua.LString(b), nil
	}
	return lua.LString(n.Value), nil
}

// ctxReader and ctxWriter fail once ctx has ended (never for a nil ctx).
type ctxReader struct {
	r   io.Reader
	ctx context.Context
}

func (c ctxReader) Read(p []byte) (int, error) {
	if c.ctx != nil && c.ctx.Err() != nil {
		return 0, c.ctx.Err()
	}
	return c.r.Read(p)
}

type ctxWriter struct {
	w   io.Writer
	ctx context.Context
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if c.ctx != nil && c.ctx.Err() != nil {
		return 0, c.ctx.Err()
	}
	return c.w.Write(p)
}
