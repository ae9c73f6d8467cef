package luart_test

import (
	"context"
	"testing"

	"github.com/etcdscript/etcdscript/luart"
)

func TestPoll(t *testing.T) {
	var zero luart.Poll
	for range 5000 {
		if zero.Step() {
			t.Fatal("the zero Poll reported an end")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := luart.NewPoll(ctx)
	for range 5000 {
		if p.Step() {
			t.Fatal("Step reported an end before the cancel")
		}
	}
	cancel()
	steps := 0
	for !p.Step() {
		if steps++; steps > 1024 {
			t.Fatal("Step did not report the end within 1024 steps")
		}
	}
	if !p.Ended() {
		t.Error("Ended is false after the cancel")
	}
}
