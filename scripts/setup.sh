#!/usr/bin/env bash
# One-time set-up: npm packages (with retries), the TypeScript build, and the Pulumi engine if none is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
for attempt in 1 2 3; do
  npm ci --fetch-retries=5 --no-audit --no-fund && break
  [[ $attempt -eq 3 ]] && exit 1
  echo "npm ci failed (attempt $attempt); retrying" >&2; sleep 10
done
npm run build
if command -v pulumi >/dev/null 2>&1; then
  echo "using $(command -v pulumi) ($(pulumi version))"
else
  bash scripts/build-pulumi.sh
fi
echo "ready: ./bin/probatio --help"
