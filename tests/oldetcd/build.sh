#!/usr/bin/env bash
# Builds the etcd server of an older release (3.5, 3.6) from its wrapper
# module in this directory and prints the binary's path. The main module
# stays on etcd 3.7; one module graph cannot hold server 3.5 beside api 3.7,
# so each older server has a module of its own (vX.Y/go.mod).
#
# The binary is cached under $ETCDSCRIPT_CACHE (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/etcdscript),
# keyed by the version and the wrapper's go.sum: a cold build takes minutes
# on two cores, a cached one nothing.
#
# Usage: tests/oldetcd/build.sh 3.5.36
set -euo pipefail
version=${1:?usage: build.sh VERSION (such as 3.5.36)}
here=$(cd "$(dirname "$0")" && pwd)
mod="$here/v${version%.*}"
if [ ! -f "$mod/go.mod" ]; then
  echo "build.sh: no wrapper module for etcd $version ($mod/go.mod)" >&2
  exit 1
fi
if ! grep -q "go.etcd.io/etcd/server/v3 v$version\$" <(sed 's#//.*##; s/[[:space:]]*$//' "$mod/go.mod"); then
  echo "build.sh: $mod/go.mod does not require go.etcd.io/etcd/server/v3 v$version" >&2
  exit 1
fi
key=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -c1-12)
base=${ETCDSCRIPT_CACHE:-}
if [ -z "$base" ]; then
  if [ -n "${XDG_CACHE_HOME:-}" ]; then base=$XDG_CACHE_HOME/etcdscript
  else base=${HOME:?build.sh: set HOME or ETCDSCRIPT_CACHE}/.cache/etcdscript
  fi
fi
cache="$base/etcd-v$version-$key"
bin="$cache/etcd"
if [ ! -x "$bin" ]; then
  mkdir -p "$cache"
  echo "build.sh: building etcd $version (minutes when cold) into $cache" >&2
  # A temporary name, renamed when complete: an interrupted build never
  # leaves a binary that looks cached.
  (cd "$mod" && go build -buildvcs=false -o "$bin.tmp.$$" go.etcd.io/etcd/server/v3)
  mv "$bin.tmp.$$" "$bin"
fi
got=$("$bin" --version)
case "$got" in
*"etcd Version: $version"*) ;;
*)
  echo "build.sh: $bin is not etcd $version: $got" >&2
  exit 1
  ;;
esac
echo "$bin"
