package concurrency_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcdscript/etcdscript/client"
	"github.com/etcdscript/etcdscript/client/concurrency"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	officialconc "go.etcd.io/etcd/client/v3/concurrency"
)

// TestSTMBankTransfers: goroutines move money between accounts at random
// under the default SerializableSnapshot, each transfer an STM; every
// transfer is applied once and no money is made or lost.
func TestSTMBankTransfers(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 2*time.Minute)
	const (
		accounts  = 5
		balance   = 100
		workers   = 4
		transfers = 15
	)
	account := func(i int) string { return fmt.Sprintf("bank/account/%d", i) }
	for i := range accounts {
		if _, err := e.cli.Put(ctx, account(i), strconv.Itoa(balance)); err != nil {
			t.Fatal(err)
		}
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		attempts int
		errs     []error
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for n := range transfers {
				from, to := rng.IntN(accounts), rng.IntN(accounts-1)
				if to >= from {
					to++
				}
				amount := 1 + rng.IntN(40)
				logKey := fmt.Sprintf("bank/log/%d/%d", w, n)
				_, err := concurrency.NewSTM(e.cli, func(s concurrency.STM) error {
					mu.Lock()
					attempts++
					mu.Unlock()
					fb, err1 := strconv.Atoi(s.Get(account(from)))
					tb, err2 := strconv.Atoi(s.Get(account(to)))
					if err := errors.Join(err1, err2); err != nil {
						return err
					}
					if fb < amount {
						amount = fb // empty the account
					}
					s.Put(account(from), strconv.Itoa(fb-amount))
					s.Put(account(to), strconv.Itoa(tb+amount))
					s.Put(logKey, strconv.Itoa(amount))
					return nil
				}, concurrency.WithAbortContext(ctx))
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	r, err := e.oracle.Get(ctx, "bank/account/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, kv := range r.Kvs {
		n, err := strconv.Atoi(string(kv.Value))
		if err != nil || n < 0 {
			t.Fatalf("%s = %q", kv.Key, kv.Value)
		}
		total += n
	}
	if len(r.Kvs) != accounts || total != accounts*balance {
		t.Fatalf("%d accounts hold %d in total, want %d holding %d", len(r.Kvs), total, accounts, accounts*balance)
	}
	logs, err := e.oracle.Get(ctx, "bank/log/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if logs.Count != workers*transfers {
		t.Fatalf("%d transfers logged, want %d", logs.Count, workers*transfers)
	}
	t.Logf("%d transfers took %d attempts", workers*transfers, attempts)
}

// stmView is one STM, ours or the official one, with the calls the
// scenarios make.
type stmView struct {
	get func(keys ...string) string
	put func(key, val string)
	del func(key string)
	rev func(key string) int64
}

// viewOf is the stmView of an STM of either package; put is its Put without
// options, whose type differs between the packages.
func viewOf(s interface {
	Get(keys ...string) string
	Del(key string)
	Rev(key string) int64
}, put func(key, val string)) stmView {
	return stmView{get: s.Get, put: put, del: s.Del, rev: s.Rev}
}

// stmRunner runs apply as one STM of an implementation at a level, with
// the keys prefetched, and returns the number of the commit's responses.
type stmRunner func(ctx context.Context, iso int, prefetch []string, apply func(stmView) error) (int, error)

func oursSTM(cli *client.Client) stmRunner {
	return func(ctx context.Context, iso int, prefetch []string, apply func(stmView) error) (int, error) {
		opts := []concurrency.STMOption{concurrency.WithIsolation(concurrency.Isolation(iso)), concurrency.WithAbortContext(ctx)}
		if len(prefetch) > 0 {
			opts = append(opts, concurrency.WithPrefetch(prefetch...))
		}
		resp, err := concurrency.NewSTM(cli, func(s concurrency.STM) error {
			return apply(viewOf(s, func(k, v string) { s.Put(k, v) }))
		}, opts...)
		if err != nil {
			return 0, err
		}
		return len(resp.Responses), nil
	}
}

func theirsSTM(cli *clientv3.Client) stmRunner {
	return func(ctx context.Context, iso int, prefetch []string, apply func(stmView) error) (int, error) {
		opts := []officialconc.STMOption{officialconc.WithIsolation(officialconc.Isolation(iso)), officialconc.WithAbortContext(ctx)}
		if len(prefetch) > 0 {
			opts = append(opts, officialconc.WithPrefetch(prefetch...))
		}
		resp, err := officialconc.NewSTM(cli, func(s officialconc.STM) error {
			return apply(viewOf(s, func(k, v string) { s.Put(k, v) }))
		}, opts...)
		if err != nil {
			return 0, err
		}
		return len(resp.Responses), nil
	}
}

// TestSTMIsolationMatchesOfficial runs the same scenarios through this
// package's STM and the official one, on the same server under their own
// key prefixes, at every isolation level: in each, another client writes
// in the middle of the first attempt. What each attempt read, how many
// attempts there were, the commit's response and the keys left behind must
// be the same.
func TestSTMIsolationMatchesOfficial(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, 2*time.Minute)
	writer := e.oracle
	write := func(k, v string) {
		if _, err := writer.Put(ctx, k, v); err != nil {
			t.Error(err)
		}
	}

	type scenario struct {
		name     string
		prefetch []string // relative keys
		// apply is the body of the transaction; p prefixes its keys,
		// attempt counts from 1, and note records what it saw.
		apply func(s stmView, p string, attempt int, note func(string, ...any)) error
	}
	scenarios := []scenario{
		{name: "read key changed", apply: func(s stmView, p string, attempt int, note func(string, ...any)) error {
			a := s.get(p + "a")
			if attempt == 1 {
				write(p+"a", "a1")
			}
			note("a=%s", a)
			s.put(p+"out", a)
			return nil
		}},
		{name: "written key changed", apply: func(s stmView, p string, attempt int, note func(string, ...any)) error {
			b := s.get(p + "b")
			if attempt == 1 {
				write(p+"w", "w1")
			}
			note("b=%s", b)
			s.put(p+"w", "mine")
			return nil
		}},
		{name: "second read after a change", apply: func(s stmView, p string, attempt int, note func(string, ...any)) error {
			a := s.get(p + "a")
			if attempt == 1 {
				write(p+"b", "b1")
			}
			b := s.get(p + "b")
			note("a=%s b=%s", a, b)
			s.put(p+"out", a+b)
			return nil
		}},
		{name: "same key read twice", apply: func(s stmView, p string, attempt int, note func(string, ...any)) error {
			a1 := s.get(p + "a")
			if attempt == 1 {
				write(p+"a", "a1")
			}
			a2 := s.get(p + "a")
			note("a=%s then %s rev>0=%v", a1, a2, s.rev(p+"a") > 0)
			s.put(p+"out", a1+a2)
			return nil
		}},
		{name: "prefetched keys", prefetch: []string{"a", "b"}, apply: func(s stmView, p string, attempt int, note func(string, ...any)) error {
			if attempt == 1 {
				write(p+"b", "b1")
			}
			note("a=%s b=%s", s.get(p+"a"), s.get(p+"b"))
			s.put(p+"out", "x")
			return nil
		}},
		{name: "absent key, write and delete", apply: func(s stmView, p string, attempt int, note func(string, ...any)) error {
			n := s.get(p + "none")
			if attempt == 1 {
				write(p+"none", "now")
			}
			s.put(p+"new", "v")
			s.del(p + "a")
			note("none=%q after put new=%s", n, s.get(p+"new", p+"a"))
			return nil
		}},
		{name: "apply error", apply: func(s stmView, p string, attempt int, note func(string, ...any)) error {
			s.put(p+"out", s.get(p+"a"))
			return errors.New("refused by apply")
		}},
	}
	levels := []string{"SerializableSnapshot", "Serializable", "RepeatableReads", "ReadCommitted"}
	impls := []struct {
		name string
		run  stmRunner
	}{{"theirs", theirsSTM(e.oracle)}, {"ours", oursSTM(e.cli)}}

	for _, sc := range scenarios {
		for iso, level := range levels {
			t.Run(sc.name+"/"+level, func(t *testing.T) {
				traces := make([]string, len(impls))
				for i, impl := range impls {
					p := fmt.Sprintf("stm/%s/%s/%s/", impl.name, strings.ReplaceAll(sc.name, " ", "-"), level)
					for _, kv := range [][2]string{{"a", "a0"}, {"b", "b0"}, {"w", "w0"}} {
						write(p+kv[0], kv[1])
					}
					var trace []string
					attempt := 0
					var prefetch []string
					for _, k := range sc.prefetch {
						prefetch = append(prefetch, p+k)
					}
					n, err := impl.run(ctx, iso, prefetch, func(s stmView) error {
						attempt++
						return sc.apply(s, p, attempt, func(f string, args ...any) {
							trace = append(trace, fmt.Sprintf("attempt %d: ", attempt)+fmt.Sprintf(f, args...))
						})
					})
					trace = append(trace, fmt.Sprintf("result: %d responses, error %v", n, err))
					r, gerr := writer.Get(ctx, p, clientv3.WithPrefix())
					if gerr != nil {
						t.Fatal(gerr)
					}
					for _, kv := range r.Kvs {
						trace = append(trace, fmt.Sprintf("%s = %s", strings.TrimPrefix(string(kv.Key), p), kv.Value))
					}
					traces[i] = strings.Join(trace, "\n")
				}
				t.Logf("trace:\n%s", traces[1])
				if traces[0] != traces[1] {
					t.Errorf("the official STM:\n%s\n\nthis package's:\n%s", traces[0], traces[1])
				}
			})
		}
	}
}

// TestSTMAbort: an abort context that ends, a failed read and bad input end
// NewSTM with an error and nothing written; the official STM returns the
// same context error.
func TestSTMAbort(t *testing.T) {
	e := newEnv(t)
	ctx := testCtx(t, time.Minute)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, theirsErr := officialconc.NewSTM(e.oracle, func(s officialconc.STM) error {
		s.Put("abort/k", s.Get("abort/a"))
		return nil
	}, officialconc.WithAbortContext(canceled))
	_, err := concurrency.NewSTM(e.cli, func(s concurrency.STM) error {
		s.Put("abort/k", s.Get("abort/a"))
		return nil
	}, concurrency.WithAbortContext(canceled))
	if !errors.Is(theirsErr, context.Canceled) {
		t.Fatalf("official STM with a canceled context: %v (the oracle changed)", theirsErr)
	}
	if err != theirsErr { //nolint:errorlint // the identity is what ported code tests
		t.Errorf("NewSTM with a canceled context: %v, want %v", err, theirsErr)
	}

	// A read at a compacted snapshot revision fails the read: the apply
	// function does not go on.
	for i := range 3 {
		if _, err := e.cli.Put(ctx, "abort/a", strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	wentOn := false
	_, err = concurrency.NewSTM(e.cli, func(s concurrency.STM) error {
		s.Get("abort/a")
		r, err := e.cli.Put(ctx, "abort/other", "x")
		if err != nil {
			return err
		}
		if _, err := e.cli.Compact(ctx, r.Header.Revision); err != nil {
			return err
		}
		s.Get("abort/b") // read at the first read's revision, now compacted
		wentOn = true
		return nil
	})
	if !errors.Is(err, rpctypes.ErrCompacted) || wentOn {
		t.Errorf("read at a compacted revision: %v (apply went on: %v), want ErrCompacted", err, wentOn)
	}
	if r, err := e.cli.Get(ctx, "abort/k"); err != nil || len(r.Kvs) != 0 {
		t.Errorf("an aborted STM wrote: %v %v", r, err)
	}

	apply := func(concurrency.STM) error { return nil }
	for name, call := range map[string]func() error{
		"nil client":        func() error { _, err := concurrency.NewSTM(nil, apply); return err },
		"nil apply":         func() error { _, err := concurrency.NewSTM(e.cli, nil); return err },
		"nil option":        func() error { _, err := concurrency.NewSTM(e.cli, apply, nil); return err },
		"unknown isolation": func() error { _, err := concurrency.NewSTM(e.cli, apply, concurrency.WithIsolation(9)); return err },
		"nil abort context": func() error {
			_, err := concurrency.NewSTM(e.cli, apply, concurrency.WithAbortContext(nil)) //nolint:staticcheck // the nil is the test
			return err
		},
	} {
		if err := call(); !errors.Is(err, client.ErrInvalidArgument) {
			t.Errorf("%s: %v, want an error wrapping ErrInvalidArgument", name, err)
		}
	}

	// A panic of the apply function is its own: it reaches the caller.
	func() {
		defer func() {
			if r := recover(); r != "apply's own" {
				t.Errorf("recovered %v, want the apply function's panic", r)
			}
		}()
		concurrency.NewSTM(e.cli, func(concurrency.STM) error { panic("apply's own") })
	}()
	// An STM kept past NewSTM does nothing.
	var kept concurrency.STM
	if _, err := concurrency.NewSTM(e.cli, func(s concurrency.STM) error { kept = s; return nil }); err != nil {
		t.Fatal(err)
	}
	kept.Put("abort/late", "x")
	if v, rev := kept.Get("abort/a"), kept.Rev("abort/a"); v != "" || rev != 0 {
		t.Errorf("STM used after NewSTM: Get %q Rev %d", v, rev)
	}
}
