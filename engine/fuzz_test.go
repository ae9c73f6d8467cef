package engine

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/etcdscript/etcdscript/stdlib"
	lua "github.com/yuin/gopher-lua"
)

// FuzzLuaGoValues checks the Lua<->Go value conversion on JSON documents:
// JSON decoded into Lua values by the json module, then converted back to
// Go by GoValue (what `run -w json` prints), must mean what encoding/json
// reads from the same document.
func FuzzLuaGoValues(f *testing.F) {
	for _, seed := range []string{
		`null`, `true`, `0`, `-1.5`, `1e300`, `9007199254740993`, `"héllo\u0000"`,
		`[]`, `{}`, `[1,null,3]`, `{"a":null,"b":[{}],"c":{"d":[[]]}}`, `[[],{},""]`,
		`{"1":1,"2":2}`, `{"a":1,"a":2}`, `[1e-320]`, `-0`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var want any
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			return
		}
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		lv, err := stdlib.DecodeJSON(L, doc)
		if err != nil {
			return // the json module is stricter (UTF-8, nesting depth)
		}
		got := GoValue(lv)
		out, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("%s: GoValue gave %#v, which does not marshal: %v", doc, got, err)
		}
		var back any
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("%s: through Lua and back reads %s", doc, out)
		}
	})
}
