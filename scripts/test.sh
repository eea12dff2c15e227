#!/usr/bin/env bash
# The test suites (npm test runs this after the build), in two lanes at once:
#   engine:   the Pulumi engine's suites (stub clouds, their recovery runs),
#   machines: unit, service, migration and the boot suites (systemd-nspawn machines).
# Each lane runs its suites one at a time: a lane's suites share daemons (the boot suites' apt cache) and are sized
# for one at a time. The two lanes share nothing (own temporary directories, free ports, own network namespaces), and
# they wait on different things (the engine's updates, the machines' first boots), so together they take little more
# than the longer lane instead of the sum (see the README's test times).
# Arguments (e.g. `npm test -- -t "phase 2"`) run one plain jest instead; PROBATIO_TEST_LANES=1 does too.
set -uo pipefail
cd "$(dirname "$0")/.."
jest=node_modules/.bin/jest

# A test that sets no timeout of its own gets a minute, not jest's 5 s: with two lanes sharing the machine's cores,
# one that renders a whole phase can take several seconds.
timeout=(--testTimeout 60000)

if [[ $# -gt 0 || "${PROBATIO_TEST_LANES:-2}" == "1" ]]; then
  exec "$jest" --runInBand "${timeout[@]}" "$@"
fi

lane() {
  local name=$1
  shift
  # Every line prefixed with its lane: the two lanes' reports interleave.
  local started=$SECONDS
  "$jest" --runInBand "${timeout[@]}" --selectProjects "$@" 2>&1 | sed -u "s/^/[$name] /"
  local rc=${PIPESTATUS[0]}
  echo "== lane $name: exit $rc after $((SECONDS - started))s"
  return "$rc"
}

# Interrupted (Ctrl-C, CI's timeout): both lanes stop, and their suites' afterAll hooks do not run; .ci/run and
# scripts/clean-boot-leftovers.sh remove what they leave.
trap 'trap - INT TERM; kill 0' INT TERM
lane engine engine &
engine=$!
lane machines unit service migration boot &
machines=$!
wait "$engine"
engine_rc=$?
wait "$machines"
machines_rc=$?

[[ $engine_rc -eq 0 && $machines_rc -eq 0 ]]
