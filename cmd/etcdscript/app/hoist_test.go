package app

import (
	"reflect"
	"strings"
	"testing"
)

func TestHoistGlobalFlags(t *testing.T) {
	app := newApp(Process{})
	cases := []struct{ in, want string }{
		{"e run x.lua", "e run x.lua"},
		{"e run --embedded x.lua", "e --embedded run x.lua"},
		{"e run --endpoints a:1 x.lua --endpoints b", "e --endpoints a:1 run x.lua --endpoints b"},
		{"e --debug run -w json x.lua a b", "e --debug -w json run x.lua a b"},
		{"e run --timeout=3s - a", "e --timeout=3s run - a"},
		{"e version -w json", "e -w json version"},
		{"e run -- --embedded", "e run -- --embedded"},
		{"e --endpoints a:1 version", "e --endpoints a:1 version"},
		{"e", "e"},
		{"e migrate up --dir m --to 2", "e migrate --dir m up --to 2"},
		{"e migrate --set s down --dir=m --all -w json", "e -w json migrate --set s --dir=m down --all"},
		{"e migrate --dir m force 3", "e migrate --dir m force 3"},
		{"e migrate status --dir m --endpoints a:1 --prefix p/", "e --endpoints a:1 migrate --dir m --prefix p/ status"},
	}
	for _, c := range cases {
		got := hoistGlobalFlags(app, strings.Fields(c.in))
		if !reflect.DeepEqual(got, strings.Fields(c.want)) {
			t.Errorf("%q: got %q, want %q", c.in, strings.Join(got, " "), c.want)
		}
	}
}
