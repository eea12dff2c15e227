#!/usr/bin/env bash
# Builds MinIO (an S3-compatible server) from the Go module proxy into a cache outside the repository, once: the boot
# tests' stand-in for OVH Object Storage, where the machines' pgBackRest sends base backups and WAL.
# Usage: scripts/build-minio.sh     # prints the binary's path on the last line
set -euo pipefail
version="v0.0.0-20260212201848-7aac2a2c5b7c"
cache="${PROBATIO_CACHE:-$HOME/.cache/probatio}"
bin="$cache/minio-$version/bin"
if [[ -x "$bin/minio" ]]; then
  echo "$bin/minio"
  exit 0
fi
mkdir -p "$bin"
start=$(date +%s)
echo "building MinIO $version from the Go module proxy (cold build: about 2 minutes)" >&2
(cd /tmp && GOBIN="$bin.tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath "github.com/minio/minio@$version" >&2)
mv "$bin.tmp/minio" "$bin/minio"
rmdir "$bin.tmp"
echo "built MinIO in $(( $(date +%s) - start ))s" >&2
echo "$bin/minio"
