/**
 * The origin's certificate by ACME on a HAProxy node (pure): certbot from Debian answers the HTTP-01 challenge on a
 * local port that HAProxy's port-80 frontend routes /.well-known/acme-challenge/ to, a systemd timer runs the
 * issue-or-renew command, and the deploy hook installs the new certificate into HAProxy's bundle and reloads it
 * (HAProxy's master re-executes its workers; the old ones finish the requests in flight).
 */
import { createHash } from "crypto";
import { DEFAULT_ACME } from "../../lib/defaults";
import { ServiceBundle } from "./bundle";

export interface AcmeSettings {
  readonly domain: string;
  /** Where the ACME account's notices go (expiry warnings from the CA). */
  readonly email: string;
  /** The ACME directory (default Let's Encrypt's production). */
  readonly directory?: string;
  /** HAProxy's certificate bundle (certificate chain then key). */
  readonly certPath: string;
  /** The port certbot answers challenges on, behind HAProxy. */
  readonly challengePort: number;
  /** The address certbot listens on: loopback, or a pair node's private address (its peer's HAProxy reaches it). */
  readonly challengeAddress?: string;
  /** Where the served certificate's expiry goes for the node exporter (default its textfile collector's directory). */
  readonly metricsFile?: string;
}

export const ACME_PATHS = {
  command: "/usr/local/sbin/probatio-certificate",
  deployHook: "/usr/local/sbin/probatio-install-certificate",
  service: "/etc/systemd/system/probatio-certificate.service",
  timer: "/etc/systemd/system/probatio-certificate.timer",
} as const;

/** certbot's lineage name: its files are /etc/letsencrypt/live/<name>/. */
export const ACME_CERT_NAME = "probatio";

/**
 * The issue-or-renew command: a no-op while the certificate has more than certbot's renewal window (30 days) left,
 * so the timer may run it often. Extra arguments are passed on (certbot's last value of an option wins).
 */
export function renderAcmeCommand(s: AcmeSettings): string {
  const metrics = s.metricsFile ?? DEFAULT_ACME.metricsFile;
  return [
    "#!/bin/sh",
    "# Rendered by probatio: obtains or renews the origin's certificate (HTTP-01 through HAProxy's challenge route),",
    "# then exports the expiry of the certificate HAProxy serves (the alert fires if renewals keep failing).",
    "set -u",
    "status=0",
    "# A new pair's address, or the name's record, may not lead to a HAProxy of ours yet: wait up to a minute for the name's",
    "# port 80 to answer at all (a validation that fails counts against the CA's limits).",
    "i=0",
    `until curl -s -o /dev/null -m 5 http://${s.domain}/.well-known/acme-challenge/probatio-preflight; do`,
    '  i=$((i + 1)); [ "$i" -ge 30 ] && break; sleep 2',
    "done",
    "certbot certonly --standalone --non-interactive --agree-tos --no-eff-email \\",
    `  --email ${s.email} --server ${s.directory ?? DEFAULT_ACME.directory} \\`,
    `  --http-01-address ${s.challengeAddress ?? "127.0.0.1"} --http-01-port ${s.challengePort} \\`,
    `  --cert-name ${ACME_CERT_NAME} -d ${s.domain} --keep-until-expiring \\`,
    `  --deploy-hook ${ACME_PATHS.deployHook} "$@" || status=$?`,
    `if end=$(openssl x509 -enddate -noout -in ${s.certPath}); then`,
    `  mkdir -p ${metrics.slice(0, metrics.lastIndexOf("/"))}`,
    "  printf '# HELP probatio_certificate_not_after_seconds When the certificate HAProxy serves expires.\\n# TYPE probatio_certificate_not_after_seconds gauge\\n" +
      `probatio_certificate_not_after_seconds{domain="${s.domain}"} %s\\n' "$(date -d "\${end#notAfter=}" +%s)" > ${metrics}.tmp`,
    `  mv ${metrics}.tmp ${metrics}`,
    "fi",
    'exit "$status"',
    "",
  ].join("\n");
}

/** The deploy hook: HAProxy's bundle replaced in one rename (never half-written), then a reload. */
export function renderAcmeDeployHook(s: AcmeSettings): string {
  return [
    "#!/bin/sh",
    "# Rendered by probatio: certbot runs this after each new certificate ($RENEWED_LINEAGE is its directory).",
    "set -eu",
    `pem=${s.certPath}`,
    "umask 077",
    'cat "$RENEWED_LINEAGE/fullchain.pem" "$RENEWED_LINEAGE/privkey.pem" > "$pem.new"',
    'mv "$pem.new" "$pem"',
    "systemctl reload haproxy",
    "",
  ].join("\n");
}

/**
 * The minute past 00:00 and 12:00 of a node's renewal runs: spread by the node (Let's Encrypt asks clients not to come
 * on the hour), fixed by its name and address rather than drawn by systemd: a timer's RandomizedDelaySec delays every
 * one of its triggers, the boot one included (a new machine then waited up to an hour for its first certificate).
 */
export function renewalMinute(s: AcmeSettings): number {
  return (
    createHash("sha256")
      .update(`${s.domain} ${s.challengeAddress ?? ""}`)
      .digest()
      .readUInt16BE(0) % 60
  );
}

export function renderAcmeUnits(s: AcmeSettings): { service: string; timer: string } {
  return {
    service: [
      "# Rendered by probatio.",
      "[Unit]",
      "Description=probatio: obtain or renew the origin's certificate by ACME",
      "Wants=network-online.target",
      "After=network-online.target haproxy.service",
      "",
      "[Service]",
      "Type=oneshot",
      `ExecStart=${ACME_PATHS.command}`,
      // A failed run (the name not leading here yet, the CA down) is tried again in a quarter of an hour rather than
      // at the next half-day: four tries an hour stay under Let's Encrypt's five failed validations per name and hour.
      "Restart=on-failure",
      `RestartSec=${DEFAULT_ACME.retryMinutes}min`,
      "",
    ].join("\n"),
    // Twice a day (Let's Encrypt's advice) at the node's minute; 2 minutes after boot too, so a new machine gets its
    // certificate once DNS leads to it (until then HAProxy serves the certificate made at first boot).
    timer: [
      "# Rendered by probatio.",
      "[Unit]",
      "Description=probatio: obtain or renew the origin's certificate twice a day",
      "",
      "[Timer]",
      "OnBootSec=2min",
      `OnCalendar=*-*-* 00,12:${String(renewalMinute(s)).padStart(2, "0")}:00`,
      "Persistent=true",
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n"),
  };
}

/** Everything ACME adds to a HAProxy node. */
export function acmeBundle(s: AcmeSettings): ServiceBundle {
  const units = renderAcmeUnits(s);
  return {
    packages: ["certbot", "curl"],
    files: [
      { path: ACME_PATHS.command, content: renderAcmeCommand(s), permissions: "0755" },
      { path: ACME_PATHS.deployHook, content: renderAcmeDeployHook(s), permissions: "0755" },
      { path: ACME_PATHS.service, content: units.service },
      { path: ACME_PATHS.timer, content: units.timer },
    ],
    commands: ["systemctl daemon-reload", "systemctl enable --now probatio-certificate.timer"],
    services: [],
  };
}
