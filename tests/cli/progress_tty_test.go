package cli_test

import (
	"bytes"
	"golang.org/x/sys/unix"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etcdscript/etcdscript/tests/etcdtest"
)

// progressScript draws both kinds of bar: put_many's and progress.bar's.
const progressScript = `
local items = {}
for i = 1, 300 do items[#items + 1] = {string.format("bar/%04d", i), "v"} end
local r = etcd.put_many(items, {progress = true, batch = 10})
local bar = require("progress").bar(40, "steps")
for _ = 1, 40 do bar:add(1) end
bar:done()
print("written " .. r.written)
`

// TestProgressBarsOnATerminal runs a script with progress bars on a
// terminal 100 columns wide, where the bars are drawn, and with stderr on a
// pipe, where they stay silent.
func TestProgressBarsOnATerminal(t *testing.T) {
	c := etcdtest.StartT(t, etcdtest.Options{})
	home := t.TempDir()
	script := filepath.Join(home, "bars.lua")
	if err := os.WriteFile(script, []byte(progressScript), 0o644); err != nil {
		t.Fatal(err)
	}
	endpoints := "ETCDCTL_ENDPOINTS=" + strings.Join(c.Endpoints(), ",")

	run := startTTY(t, home, &unix.Winsize{Row: 24, Col: 100}, []string{"run", script}, endpoints)
	if err := run.wait(); err != nil {
		t.Fatalf("run on a terminal: %v\n%s", err, run.output())
	}
	out := run.output()
	for _, want := range []string{"written 300", "\rput_many [", "100% 300/300", "\rsteps [", "100% 40/40"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q on the terminal:\n%q", want, out)
		}
	}
	// The bar fits the terminal's 100 columns.
	for _, frame := range strings.Split(out, "\r") {
		frame, _, _ = strings.Cut(frame, "\x1b[K")
		if len(frame) > 100 {
			t.Errorf("a frame of %d columns on a terminal of 100: %q", len(frame), frame)
		}
	}

	// Piped: no bar, and the script's own output as usual.
	bin, err := exec.LookPath("etcdscript")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "run", script)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, endpoints}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run on pipes: %v\n%s", err, stderr.String())
	}
	if stdout.String() != "written 300\n" || stderr.Len() != 0 {
		t.Errorf("on pipes: stdout %q, stderr %q; want only the script's output", stdout.String(), stderr.String())
	}
}
