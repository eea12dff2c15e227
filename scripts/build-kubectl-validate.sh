#!/usr/bin/env bash
# Builds kubectl-validate (Kubernetes' own schemas, offline) from the Go module proxy into a cache outside the
# repository, once: the Kubernetes objects' schema test runs it.
# Usage: scripts/build-kubectl-validate.sh     # prints the binary's path on the last line
set -euo pipefail
version="v0.0.4"
cache="${PROBATIO_CACHE:-$HOME/.cache/probatio}"
dir="$cache/kubectl-validate-$version"
if [[ -x "$dir/kubectl-validate" ]]; then
  echo "$dir/kubectl-validate"
  exit 0
fi
start=$(date +%s)
echo "building kubectl-validate $version from the Go module proxy (cold build: a few minutes)" >&2
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
(cd /tmp && GOBIN="$dir.tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath "sigs.k8s.io/kubectl-validate@$version" >&2)
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "built kubectl-validate in $(( $(date +%s) - start ))s" >&2
echo "$dir/kubectl-validate"
