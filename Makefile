# The one test command (README.md): everything CI runs.
.PHONY: test vet fmt

test: vet fmt
	go test -race -timeout 25m ./...

vet:
	go vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: bench fuzz-smoke

# Reruns every benchmark side by side and writes BENCHMARKS.md (~8 min on 2 cores).
bench:
	bench/run.sh $(BENCHFLAGS)

# A few seconds of fuzzing per Fuzz* target in the repository.
fuzz-smoke:
	FUZZTIME=$(or $(FUZZTIME),5s) bench/fuzz-smoke.sh
