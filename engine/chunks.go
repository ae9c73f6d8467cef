package engine

import (
	"bytes"
	"crypto/sha256"
	"sync"
	"sync/atomic"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// maxCachedChunks bounds the compiled-chunk cache. Scripts and their
// modules are few; the bound only matters for a host that runs many
// generated strings.
const maxCachedChunks = 512

// chunkKey names a compiled chunk by its chunk name and the hash of its
// source. Hashing the content rather than trusting a file's size and mtime
// costs one read of a small file and can never serve a stale chunk.
type chunkKey struct {
	name string
	sum  [sha256.Size]byte
}

// chunkCache holds compiled chunks. A FunctionProto is never modified after
// compilation, so one serves any number of states, concurrently too.
type chunkCache struct {
	mu     sync.Mutex
	protos map[chunkKey]*lua.FunctionProto
	// order lists keys oldest first, for eviction.
	order []chunkKey

	hits, misses atomic.Int64
}

func newChunkCache() *chunkCache {
	return &chunkCache{protos: make(map[chunkKey]*lua.FunctionProto)}
}

// compile returns the compiled chunk of src under name, from the cache when
// the same name and source were compiled before. A syntax error is a
// *lua.ApiError of type ApiErrorSyntax whose Cause is the parser's error,
// as LState.Load returns it.
func (c *chunkCache) compile(name string, src []byte) (*lua.FunctionProto, error) {
	key := chunkKey{name: name, sum: sha256.Sum256(src)}
	c.mu.Lock()
	p, ok := c.protos[key]
	c.mu.Unlock()
	if ok {
		c.hits.Add(1)
		return p, nil
	}
	c.misses.Add(1)
	p, err := compileChunk(name, src)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.protos[key]; !ok {
		if len(c.order) >= maxCachedChunks {
			delete(c.protos, c.order[0])
			c.order = c.order[1:]
		}
		c.protos[key] = p
		c.order = append(c.order, key)
	}
	return p, nil
}

// byName returns the cached chunks compiled under name: the file an error
// message names, for luart.CallHint.
func (c *chunkCache) byName(name string) []*lua.FunctionProto {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*lua.FunctionProto
	for _, k := range c.order {
		if k.name == name {
			out = append(out, c.protos[k])
		}
	}
	return out
}

// compileChunk parses and compiles src without any state.
func compileChunk(name string, src []byte) (*lua.FunctionProto, error) {
	// A leading "#!" line is a shell's business, as in the lua command.
	if bytes.HasPrefix(src, []byte("#!")) {
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			// Keep the newline so that line numbers stay right.
			src = src[i:]
		} else {
			src = nil
		}
	}
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
	}
	if err := checkNesting(name, src, chunk); err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
	}
	p, err := lua.Compile(guardJumpTargets(chunk), name)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
	}
	fixTForLoops(p)
	return p, nil
}

// Instruction fields of gopher-lua's bytecode (opcode.go, v1.1.2).
const (
	opShift   = 26
	sbxMask   = 0x3ffff
	sbxOffset = sbxMask >> 1 // sBx is stored offset by this
)

// fixTForLoops repairs the other half of gopher-lua v1.1.2's loop
// miscompile (jumpfix.go). Where the chain of jumps from a generic for's
// back jump ends on the very next instruction, the jump-to-jump pass turns
// the back jump into a NOP, changing only its opcode. But TFORLOOP does not
// execute the instruction after it: it reads that instruction's offset and
// applies it, so it would jump by the NOP's leftover operand, a label
// number. A jump of 0 again keeps what the pass meant: going on after the
// loop. (With the guards of guardJumpTargets no chain ends there; this
// keeps a chunk right should one ever do.)
func fixTForLoops(p *lua.FunctionProto) {
	code := p.Code
	for i := 0; i+1 < len(code); i++ {
		if code[i]>>opShift == uint32(lua.OP_TFORLOOP) && code[i+1]>>opShift == uint32(lua.OP_NOP) {
			code[i+1] = uint32(lua.OP_JMP)<<opShift | sbxOffset
		}
	}
	for _, f := range p.FunctionPrototypes {
		fixTForLoops(f)
	}
}

// stateOptions are the options of every Lua state the engine makes. The
// registry (gopher-lua's value stack) may grow to 2M slots: its default
// fixed size overflows on ordinary data work, such as table.concat of
// 100,000 lines.
func stateOptions() lua.Options {
	return lua.Options{
		SkipOpenLibs:        true,
		IncludeGoStackTrace: true,
		RegistrySize:        lua.RegistrySize,
		RegistryMaxSize:     1 << 21,
		// Each growth copies the whole stack: 32 slots at a time (the
		// default) made moving a million values to a coroutine take
		// minutes; 4096 (64 KiB) keeps that to a few hundred copies.
		RegistryGrowStep: 1 << 12,
	}
}
