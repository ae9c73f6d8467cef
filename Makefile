# The one test command (README.md): everything CI runs.
.PHONY: test vet fmt

test: vet fmt
	go test -race -timeout 25m ./...

vet:
	go vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
