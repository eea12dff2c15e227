#!/usr/bin/env bash
# Installs the real daemons the service-configuration tests start on loopback (Debian's packages), without
# letting their packages start system services (the tests start their own, on free ports).
set -euo pipefail
packages=(
  postgresql-15 postgresql-client-15 pgbouncer pgbackrest
  haproxy keepalived redis-server redis-sentinel
  prometheus prometheus-alertmanager cloud-init python3-aiosmtpd
  mmdebstrap systemd-container apt-cacher-ng dnsmasq-base socat nftables docker-compose apt-utils dpkg-dev openssl gpg
  knot knot-dnsutils certbot
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "Debian packages already installed" >&2
  exit 0
fi
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee $policy >/dev/null && $SUDO chmod +x $policy && created_policy=1
fi
trap '[[ $created_policy -eq 1 ]] && $SUDO rm -f '"$policy" EXIT
for attempt in 1 2 3; do
  if $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    exit 0
  fi
  echo "apt-get failed (attempt $attempt); retrying" >&2
  sleep 10
done
exit 1
