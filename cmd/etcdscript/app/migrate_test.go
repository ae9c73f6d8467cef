package app

import (
	"strings"
	"testing"
)

func TestMigrateCommandLineKeepsWhereTheSetIs(t *testing.T) {
	for in, want := range map[string]string{
		"etcdscript migrate --dir m up":                                    "etcdscript migrate --dir m",
		"etcdscript --endpoints=a:1,b:2 migrate up --set s --to 3 --dir=m": "etcdscript migrate --endpoints a:1,b:2 --set s --dir m",
		"etcdscript migrate --dir m* --user u:pw --password p force 2":     "etcdscript migrate --dir 'm*'",
		"etcdscript migrate --dir it's -w json --embedded --data-dir d up": `etcdscript migrate --dir 'it'\''s' --embedded --data-dir d`,
	} {
		if got := migrateCommandLine(strings.Fields(in)); got != want {
			t.Errorf("%q:\n got %s\nwant %s", in, got, want)
		}
	}
}
