#!/usr/bin/env bash
# Removes what an interrupted boot test left: its machines (systemd-nspawn), their overlays, network namespaces and
# the daemons started in them, their control groups, the operator's keys, and the namespaces' resolver files.
set -uo pipefail
pkill -f 'systemd-nspawn.*/var/tmp/probatio-boot-' 2>/dev/null && sleep 2
pkill -9 -f 'systemd-nspawn.*/var/tmp/probatio-boot-' 2>/dev/null
grep -o ' /var/tmp/probatio-boot-[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^pbt-'); do
  ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$ns" 2>/dev/null
done
pkill -f 'apt-cacher-ng ForeGround=1 CacheDir=.*probatio' 2>/dev/null
# The machines' own control groups (tests/boot/harness.ts machineCgroups), innermost first.
for root in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
  [ -d "$root/probatio-boot" ] && find "$root/probatio-boot" -depth -type d -exec rmdir {} \; 2>/dev/null
done
rm -rf /var/tmp/probatio-boot-* /etc/netns/pbt-*
exit 0
