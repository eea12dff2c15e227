#!/usr/bin/env bash
# Runs every test (npm test): the build, then two lanes side by side, each one jest process running its suites one at
# a time (this machine has 2 cores; each lane keeps about one busy):
# - machines: the boot suites of the phases' own machines (ProbatioVault 0-3: Debian 12 machines under systemd-nspawn);
# - programs: the unit, service, migration and engine projects, and the other boot suites (the all-in-ones, KoproGo,
#   the 1-to-2 data step), so that both lanes take about as long.
# The lanes share one package cache (apt-cacher-ng, started here; its cache outside the repository) and nothing else:
# every boot network is a namespace of its own, every engine sandbox and daemon directory a temporary directory of its
# own. Each lane's lines carry its name; the exit code is non-zero when either lane failed; both always run to their end.
#
# Usage: scripts/test.sh [jest options...]   # e.g. scripts/test.sh -t "phase 3" (applied to both lanes)
set -uo pipefail
cd "$(dirname "$0")/.."
npm run build || exit 1
jest=node_modules/.bin/jest
start=$(date +%s)

# The boot suites the programs lane runs after its own projects (the machines lane runs every other one).
programs_boot='boot/(allinones|koprogo|migration1to2)\.test'

# One package cache for both lanes' machines.
cache="${PROBATIO_CACHE:-$HOME/.cache/probatio}/apt-cacher-ng"
work=/var/tmp/probatio-boot-apt-cache-lanes
rm -rf "$work" && mkdir -p "$cache" "$work"
port=$((3142 + RANDOM % 1000))
/usr/sbin/apt-cacher-ng ForeGround=1 "CacheDir=$cache" "LogDir=$work" "Port=$port" BindAddress=127.0.0.1 \
  "PidFile=$work/acng.pid" ExThreshold=365 >/dev/null 2>&1 &
acng=$!
socat "UNIX-LISTEN:$work/apt.sock,fork,unlink-early" "TCP:127.0.0.1:$port" >/dev/null 2>&1 &
bridge=$!
trap 'kill $acng $bridge 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [[ -S "$work/apt.sock" ]] && break; sleep 0.1; done
[[ -S "$work/apt.sock" ]] || { echo "the package cache did not start (apt-cacher-ng, socat)" >&2; exit 1; }
export PROBATIO_APT_CACHE_SOCKET="$work/apt.sock"

lane() {
  local name="$1"
  shift
  # One line at a time (sed -u), so the two lanes' lines interleave whole.
  "$jest" --runInBand --testTimeout 60000 "$@" 2>&1 | sed -u "s/^/[$name] /"
  local rc=${PIPESTATUS[0]}
  echo "[$name] lane exited $rc after $(($(date +%s) - start)) s"
  return "$rc"
}
lane machines --selectProjects boot --testPathIgnorePatterns "$programs_boot" "$@" &
machines=$!
lane programs --selectProjects unit service migration engine boot --testPathIgnorePatterns 'boot/probatio[0-9]\.test' "$@" &
programs=$!
wait "$machines"
machines_rc=$?
wait "$programs"
programs_rc=$?
echo "tests done in $(($(date +%s) - start)) s: machines lane exited $machines_rc, programs lane exited $programs_rc"
[[ $machines_rc -eq 0 && $programs_rc -eq 0 ]]
