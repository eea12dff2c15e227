#!/usr/bin/env bash
# Builds the Pulumi CLI (and the Node.js language host) from the Go module proxy into a cache
# directory outside the repository, and reuses it on later runs. Machines without internet cannot
# download Pulumi's release archives; they can reach the Go module proxy.
#
# Usage: scripts/build-pulumi.sh            # prints the bin directory on the last line
# Env:   PROBATIO_CACHE (default ~/.cache/probatio)
set -euo pipefail

PULUMI_VERSION="v3.259.0"
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${PROBATIO_CACHE:-$HOME/.cache/probatio}"
bin="$cache/pulumi-$PULUMI_VERSION/bin"
mkdir -p "$bin"

ldflags="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"

if [[ -x "$bin/pulumi" ]] && "$bin/pulumi" version 2>/dev/null | grep -qx "$PULUMI_VERSION"; then
  echo "pulumi $PULUMI_VERSION already built in $bin" >&2
else
  echo "building pulumi $PULUMI_VERSION from the Go module proxy into $bin (cold build: several minutes)" >&2
  start=$(date +%s)
  (cd "$here/tools/pulumi" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" \
      -o "$bin/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$bin/pulumi.tmp" "$bin/pulumi"
  echo "built pulumi in $(( $(date +%s) - start ))s ($(du -h "$bin/pulumi" | cut -f1))" >&2
fi

# The Node.js language host (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) is needed only
# to run the on-disk Pulumi.yaml project with `pulumi preview`; the CLI's inline Automation API programs do not
# use it. The Go module proxy does not serve that module (403), so it is not built here.
echo "$bin"
