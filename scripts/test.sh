#!/usr/bin/env bash
# Runs every test (npm test): the build, then two lanes side by side, each one jest process running its suites one at
# a time:
# - machines: the boot project (Debian 12 machines under systemd-nspawn; one network at a time, they share one
#   package cache and most of their time is spent waiting on first boots, failovers and timers);
# - programs: the unit, service, migration and engine projects (the real engine, real daemons on loopback).
# The lanes touch nothing in common (the boot tests' machines live in network namespaces of their own, every engine
# sandbox and daemon directory is its own temporary directory). Each lane's lines carry its name; the exit code is
# non-zero when either lane failed, and both always run to their end.
#
# Usage: scripts/test.sh [jest options...]   # e.g. scripts/test.sh -t "phase 3" (applied to both lanes)
set -uo pipefail
cd "$(dirname "$0")/.."
npm run build || exit 1
jest=node_modules/.bin/jest
start=$(date +%s)
lane() {
  local name="$1"
  shift
  # stdbuf: one line at a time, so the two lanes' lines interleave whole.
  "$jest" --runInBand --testTimeout 60000 "$@" 2>&1 | stdbuf -oL sed -u "s/^/[$name] /"
  local rc=${PIPESTATUS[0]}
  echo "[$name] lane exited $rc after $(($(date +%s) - start)) s"
  return "$rc"
}
lane machines --selectProjects boot "$@" &
machines=$!
lane programs --selectProjects unit service migration engine "$@" &
programs=$!
wait "$machines"
machines_rc=$?
wait "$programs"
programs_rc=$?
echo "tests done in $(($(date +%s) - start)) s: machines lane exited $machines_rc, programs lane exited $programs_rc"
[[ $machines_rc -eq 0 && $programs_rc -eq 0 ]]
