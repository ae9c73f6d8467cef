#!/usr/bin/env bash
# bench/fuzz-smoke.sh: a short fuzz run of every Go fuzz target in the
# repository (make fuzz-smoke), so that CI notices a target that panics or
# fails within seconds. Targets are found with grep, so new ones join by
# themselves.
#
#   bench/fuzz-smoke.sh                 # every target, FUZZTIME (2000x) each
#   FUZZTIME=100000x bench/fuzz-smoke.sh FuzzParseConfig FuzzJSON   # some, longer
#
# FUZZTIME is a count of executions (Nx) by default, not a duration: on Go
# 1.26 a duration can end a run that found nothing with a bare "context
# deadline exceeded" when the coordinator races its own deadline under load
# (golang/go#75804, fixed in Go 1.27). A count has no deadline to race, so
# every failure left is a real finding (a written input, a panic). A
# duration still works for a long local run (FUZZTIME=1m).
#
# A failure leaves the input that caused it in the package's
# testdata/fuzz/<FuzzName>/ directory: fix the bug and commit that file, it
# then runs as a regression test with every `go test`.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime="${FUZZTIME:-2000x}"

# "dir name" for every func FuzzX(f *testing.F) in a _test.go file.
targets=$(git ls-files --cached --others --exclude-standard -- '*_test.go' 2>/dev/null ||
  find . -name '*_test.go' -not -path './.git/*')
targets=$(grep -s -H -o -E '^func Fuzz[A-Za-z0-9_]*\(' $targets /dev/null |
  sed -E 's#^(\./)?(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#\2 \3#; s#^(\./)?[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\($#. \2#' |
  sort -u)
if [ "$#" -gt 0 ]; then
  want=" $* "
  targets=$(echo "$targets" | while read -r dir name; do
    case "$want" in *" $name "*) echo "$dir $name" ;; esac
  done)
fi
if [ -z "$targets" ]; then
  echo "fuzz-smoke: no fuzz targets found${*:+ named $*}" >&2
  exit 1
fi

echo "fuzz-smoke: $(echo "$targets" | wc -l) target(s), $fuzztime each:"
echo "$targets" | sed 's/^/  /'
passed=0
failed=0
failures=""
while read -r dir name; do
  echo "=== $name (./$dir)"
  start=$SECONDS
  if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures="$failures $dir:$name"
  fi
  echo "--- $name: $((SECONDS - start))s with the build"
done <<< "$targets"
[ -n "$failures" ] && echo "fuzz-smoke: failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
