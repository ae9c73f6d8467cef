#!/usr/bin/env bash
# bench/run.sh: rerun every benchmark of etcdscript side by side and write
# BENCHMARKS.md (make bench). Flags go to bench/cmd/benchrun, e.g.
#   bench/run.sh -quick                  # a 2-3 minute check of the harness
#   bench/run.sh -sections putmany,oneget -o /tmp/b.md
# Needs Go and bash; etcdctl is built once from the Go module proxy and kept
# in ~/.cache/etcdscript-bench. Takes about 5-10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(mktemp -d "${TMPDIR:-/tmp}/benchrun-bin-XXXXXX")"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/benchrun" ./bench/cmd/benchrun
"$bin/benchrun" "$@"
