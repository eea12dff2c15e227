#!/usr/bin/env bash
# Builds the Debian 12 root file system the boot tests start machines from, once, into a cache outside the repo:
# Debian's packages that a cloud image carries (systemd, cloud-init, openssh-server, iproute2, ...), from Debian's
# mirror, with mmdebstrap. It stands in for OVH's Debian 12 image: the same cloud-init (22.4.2), configured for the
# NoCloud datasource the tests seed and for systemd-networkd to apply the network configuration they give.
# One difference, for speed only: dpkg unpacks without syncing every file (force-unsafe-io, as Debian's own container
# images do): a test machine's disk never has to survive a power cut, and 14 machines installing their packages at once
# spent much of their first boot waiting on fsync (a backend's install measured 88 s synced, 54 s without).
#
# Usage: scripts/boot-image.sh      # prints the image directory on the last line
# Env:   PROBATIO_CACHE (default ~/.cache/probatio)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${PROBATIO_CACHE:-$HOME/.cache/probatio}"
# The image is rebuilt when this script changes.
version="$(sha256sum "$here/scripts/boot-image.sh" | cut -c1-12)"
image="$cache/boot/bookworm-$version"
if [[ -f "$image/.complete" ]]; then
  echo "boot image already built: $image" >&2
  echo "$image"
  exit 0
fi
for tool in mmdebstrap systemd-nspawn dnsmasq socat apt-cacher-ng; do
  command -v "$tool" >/dev/null 2>&1 || [[ -x "/usr/sbin/$tool" ]] || { echo "missing $tool: run scripts/install-debian-packages.sh" >&2; exit 1; }
done
rm -rf "$image" "$image.tmp"
mkdir -p "$(dirname "$image")"
start=$(date +%s)
mmdebstrap --variant=apt \
  --include=systemd,systemd-sysv,systemd-resolved,dbus,cloud-init,openssh-server,iproute2,ca-certificates,curl,gnupg,sudo,cron,netbase,locales,tzdata,less,procps \
  --customize-hook='chroot "$1" systemctl enable systemd-networkd systemd-resolved' \
  --customize-hook='sed -i "s/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/" "$1/etc/locale.gen" && chroot "$1" locale-gen >/dev/null' \
  --customize-hook='printf "datasource_list: [ NoCloud, None ]\nsystem_info:\n  network:\n    renderers: [networkd]\n" > "$1/etc/cloud/cloud.cfg.d/90-probatio-boot-image.cfg"' \
  --customize-hook='rm -f "$1/etc/machine-id" && touch "$1/etc/machine-id"' \
  --customize-hook='echo force-unsafe-io > "$1/etc/dpkg/dpkg.cfg.d/probatio-boot-tests-unsafe-io"' \
  bookworm "$image.tmp" http://deb.debian.org/debian >&2
touch "$image.tmp/.complete"
mv "$image.tmp" "$image"
# Older images of earlier versions of this script are of no use any more.
find "$cache/boot" -maxdepth 1 -name 'bookworm-*' ! -name "bookworm-$version" -exec rm -rf {} + 2>/dev/null || true
echo "built the boot image in $(( $(date +%s) - start ))s ($(du -sh "$image" | cut -f1))" >&2
echo "$image"
