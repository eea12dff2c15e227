#!/usr/bin/env bash
# Builds Pebble (Let's Encrypt's test ACME server) from the Go module proxy into a cache outside the repository, once:
# the ACME test's certificate authority. Its test certificates (the API's TLS, the minica root) come with the module.
# Usage: scripts/build-pebble.sh     # prints the module's directory on the last line (the binary is its bin/pebble)
set -euo pipefail
version="v2.10.3"
cache="${PROBATIO_CACHE:-$HOME/.cache/probatio}"
dir="$cache/pebble-$version"
if [[ -x "$dir/bin/pebble" && -f "$dir/test/certs/pebble.minica.pem" ]]; then
  echo "$dir"
  exit 0
fi
start=$(date +%s)
echo "building Pebble $version from the Go module proxy (cold build: about 30 seconds)" >&2
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin"
(cd /tmp && GOBIN="$dir.tmp/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath "github.com/letsencrypt/pebble/v2/cmd/pebble@$version" >&2)
src="$(cd /tmp && GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' "github.com/letsencrypt/pebble/v2@$version")"
mkdir -p "$dir.tmp/test" && cp -r "$src/test/certs" "$dir.tmp/test/certs" && chmod -R u+w "$dir.tmp"
rm -rf "$dir" && mv "$dir.tmp" "$dir"
echo "built Pebble in $(( $(date +%s) - start ))s" >&2
echo "$dir"
