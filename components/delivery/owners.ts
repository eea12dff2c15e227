/**
 * Which service a configuration file belongs to, and how that service takes a change of it: the one table an in-place
 * delivery reads to restart only what a change touches. A file no service reads at run time (a first-boot script,
 * a cron table, which cron rereads itself) needs no action.
 */
import { DEFAULT_POSTGRES } from "../../lib/defaults";
import { PATRONI_APPLY_SCRIPT, PATRONI_CONFIG } from "../config/patroni";
import { RELEASE_SCRIPT } from "../config/services";

export type OwnerAction =
  /** `systemctl reload-or-restart`: the daemon rereads its files without dropping connections. */
  | { readonly kind: "reload"; readonly unit: string }
  /** `systemctl restart`: the daemon has no reload (Redis, Sentinel, the node exporter's flags). */
  | { readonly kind: "restart"; readonly unit: string }
  /** A command (an application under PM2, a Compose project). */
  | { readonly kind: "command"; readonly label: string; readonly command: string }
  | { readonly kind: "none" };

interface OwnerRule {
  readonly match: RegExp;
  readonly action: (path: string) => OwnerAction;
}

/** The application a PM2 configuration or a release file belongs to. */
const appOf = (path: string) => /\/(?:pm2|releases)\/([^/.]+)(?:\.config\.json)?$/.exec(path)![1];

const rules: readonly OwnerRule[] = [
  // PostgreSQL rereads pg_hba and most settings on reload; one that needs a restart shows in pg_settings.pending_restart.
  { match: /^\/etc\/postgresql\/\d+\/main\//, action: () => ({ kind: "reload", unit: `postgresql@${DEFAULT_POSTGRES.version}-main` }) },
  // Patroni owns PostgreSQL's configuration where the cluster fails over by itself: its file is applied by reload
  // (this node's part) and by its REST API (the part every node shares, kept in etcd).
  {
    match: new RegExp(`^${PATRONI_CONFIG.replace(/\./g, "\\.")}$`),
    action: () => ({ kind: "command", label: "apply patroni", command: PATRONI_APPLY_SCRIPT }),
  },
  // etcd rereads nothing: a restart (one member at a time keeps the majority). Its membership is set at creation.
  { match: /^\/etc\/default\/etcd$/, action: () => ({ kind: "restart", unit: "etcd" }) },
  // The host firewall: nftables.service's reload loads the file atomically (a restart would flush every table).
  { match: /^\/etc\/nftables\.conf$/, action: () => ({ kind: "reload", unit: "nftables" }) },
  { match: /^\/etc\/pgbouncer\//, action: () => ({ kind: "reload", unit: "pgbouncer" }) },
  { match: /^\/etc\/haproxy\//, action: () => ({ kind: "reload", unit: "haproxy" }) },
  { match: /^\/etc\/keepalived\//, action: () => ({ kind: "reload", unit: "keepalived" }) },
  { match: /^\/etc\/redis\/redis\.conf$/, action: () => ({ kind: "restart", unit: "redis-server" }) },
  { match: /^\/etc\/redis\/sentinel\.conf$/, action: () => ({ kind: "restart", unit: "redis-sentinel" }) },
  { match: /^\/etc\/prometheus\/alertmanager\.yml$/, action: () => ({ kind: "reload", unit: "prometheus-alertmanager" }) },
  { match: /^\/etc\/prometheus\//, action: () => ({ kind: "reload", unit: "prometheus" }) },
  { match: /^\/etc\/default\/prometheus-node-exporter$/, action: () => ({ kind: "restart", unit: "prometheus-node-exporter" }) },
  { match: /^\/etc\/systemd\/system\/[^/]+\.(service|timer)$/, action: (p) => ({ kind: "restart", unit: p.split("/").pop()! }) },
  {
    // A new release or a new environment: the release script installs what is set and has PM2 reload one worker at a
    // time (cluster mode: no request dropped), then waits for the health endpoint.
    match: /^\/etc\/probatio\/(pm2\/[^/]+\.config\.json|releases\/[^/]+)$/,
    action: (p) => ({ kind: "command", label: `release ${appOf(p)}`, command: `${RELEASE_SCRIPT} ${appOf(p)}` }),
  },
  {
    match: /^(\/opt\/koprogo\/docker-compose\.yml|\/etc\/probatio\/backend\.env|\/etc\/probatio\/db_password)$/,
    action: () => ({ kind: "command", label: "compose koprogo", command: "docker-compose -f /opt/koprogo/docker-compose.yml up -d" }),
  },
];

export function ownerOf(path: string): OwnerAction {
  const rule = rules.find((r) => r.match.test(path));
  return rule ? rule.action(path) : { kind: "none" };
}

/** A stable key per action, so that two files of one service restart it once. */
export function actionKey(a: OwnerAction): string {
  switch (a.kind) {
    case "reload":
    case "restart":
      return `${a.kind} ${a.unit}`;
    case "command":
      return a.label;
    case "none":
      return "none";
    default: {
      const never: never = a;
      return never;
    }
  }
}
