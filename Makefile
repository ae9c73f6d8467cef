# The one test command (README.md): everything CI runs.
.PHONY: test vet fmt

# The race detector runs on the packages with goroutines of their own (the
# client, the Lua runtime, engine and bindings, the in-process server); the
# end-to-end suites run without it to stay within the time budget on two
# cores.
RACE_PKGS = ./client/... ./luart/... ./stdlib/... ./internal/... ./bindings/... ./engine/... ./enginetest/... ./embedetcd/...
PLAIN_PKGS = $(shell go list ./... | grep -v -E '/(client|luart|stdlib|internal|bindings|engine|enginetest|embedetcd)(/|$$)')

test: vet fmt
	go test -race -timeout 20m $(RACE_PKGS)
	go test -timeout 20m $(PLAIN_PKGS)
	$(MAKE) test-scripts
	FUZZTIME=$(or $(FUZZTIME),2000x) bench/fuzz-smoke.sh $(FUZZ_SMOKE)
	$(MAKE) test-compat

.PHONY: test-compat

# Older servers: the client's oracle tests and the Lua test files against an
# etcd server of another release, run as a process (etcdtest.ExternalEnv).
# tests/oldetcd/build.sh builds it from its wrapper module, minutes when
# cold, then cached. CI runs 3.5; `make test-compat ETCD_VERSION=3.6.17`
# runs 3.6.
ETCD_VERSION ?= 3.5.36
COMPAT_TESTS = ^(TestStartServer|TestKVMatchesOfficial|TestTxnMatchesOfficial|TestCompareMatchesOfficial|TestAuthMatchesOfficial|TestWatchMatchesOfficial|TestSnapshotMatchesOfficial|TestLeaseCallsMatchOfficialClient|TestReadRange.*|TestRangeStreamByServerVersion|TestLuaFiles|TestLuaScanThroughGetStream)$$

test-compat:
	@bin=$$(tests/oldetcd/build.sh $(ETCD_VERSION)) && echo "etcd $(ETCD_VERSION): $$bin" && \
	ETCDSCRIPT_TEST_ETCD=$$bin go test -timeout 15m -run '$(COMPAT_TESTS)' ./tests/etcdtest ./client ./bindings

vet:
	go vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# The scripts' own tests (scripts/**/*_test.lua), run as a user runs them:
# etcdscript test, each file against an embedded etcd of its own.
BIN = $(CURDIR)/.bin
.PHONY: test-scripts
test-scripts:
	go build -o $(BIN)/ ./cmd/etcdscript ./cmd/etcdscript/etcdscript-etcd
	$(BIN)/etcdscript test scripts

.PHONY: bench fuzz-smoke

# Reruns every benchmark side by side and writes BENCHMARKS.md (~8 min on 2 cores).
bench:
	bench/run.sh $(BENCHFLAGS)

# A few seconds of fuzzing per Fuzz* target in the repository: a count of
# executions, not a duration (see bench/fuzz-smoke.sh).
fuzz-smoke:
	FUZZTIME=$(or $(FUZZTIME),5000x) bench/fuzz-smoke.sh
