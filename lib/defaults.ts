/**
 * Defaults defined once, used by the components, the phase programs, the CLI and the tests. Numbers that come from
 * the seeds (sizes, counts, CIDRs, costs) live in the roadmap data (`programs/roadmaps`), not here: these are the
 * values probatio chooses where the seeds are silent, and the well-known ports of the software it runs.
 */

/** OVH region of every roadmap (both seeds: Gravelines, France). */
export const DEFAULT_REGION = "GRA11";

/** The image every machine boots. */
export const DEFAULT_IMAGE = "Debian 12";

/** OVH subsidiary for classic VPS orders. */
export const DEFAULT_OVH_SUBSIDIARY = "FR";

/** Well-known ports of what probatio runs or reaches. */
/** The tag of the ports probatio declares for a router's interface: OpenStack applies no security group to them. */
export const ROUTER_INTERFACE_TAG = "probatio:router-interface";

export const ports = {
  ssh: 22,
  http: 80,
  https: 443,
  postgres: 5432,
  pgbouncer: 6432,
  redis: 6379,
  sentinel: 26379,
  nodeExporter: 9100,
  prometheus: 9090,
  alertmanager: 9093,
  /** OVHcloud KMS (HSM) endpoint. */
  hsm: 9000,
  /** HAProxy's runtime API, on each load balancer's loopback (migrations drive it through an SSH tunnel). */
  haproxyRuntimeApi: 9999,
  /** HAProxy's stats page, on the private network. */
  haproxyStats: 8404,
  /** The application's backend (PM2 on VPS, the container in Kubernetes). */
  backend: 3000,
  /** KoproGo's backend container behind Traefik (Docker Compose phases). */
  composeBackend: 8080,
  /** Patroni's REST API on each database machine: its health endpoints (/primary, /replica) and its configuration. */
  patroni: 8008,
  /** etcd, Patroni's coordination store: clients, and its members between themselves. */
  etcdClient: 2379,
  etcdPeer: 2380,
  /** K3s: the API server (and the agents' supervisor connection), the kubelet, flannel's VXLAN (UDP). */
  kubernetesApi: 6443,
  kubelet: 10250,
  flannelVxlan: 8472,
  /** On the pgBouncer machine's loopback: HAProxy's port that always leads to the current PostgreSQL leader. */
  postgresLeader: 5000,
} as const;

/**
 * DNS at the edge. `ttlSeconds` is the records' TTL unless the stack sets `dnsTtl`: OVH's minimum, 60 s (its zone
 * default, 3600 s, would make a migration's switch wait an hour). A side-by-side migration lowers the records to
 * `switchTtlSeconds` from its provisioning on. The CAA record names the origins' ACME issuer.
 */
export const DEFAULT_DNS = { ttlSeconds: 60, switchTtlSeconds: 60, acmeIssuer: "letsencrypt.org" } as const;

/** The origins' certificates by ACME: Let's Encrypt's production directory, certbot's challenge port, the expiry alert. */
export const DEFAULT_ACME = {
  directory: "https://acme-v02.api.letsencrypt.org/directory",
  challengePort: 8888,
  /** The certificate-expiry alert fires this many days before the end (certbot renews 30 days before). */
  alertDays: 14,
  /** A failed run is tried again after this long (four tries an hour: under Let's Encrypt's failed-validation limit). */
  retryMinutes: 15,
  /** Where the node exporter's textfile collector (Debian's default directory) reads the certificate's expiry. */
  metricsFile: "/var/lib/prometheus/node-exporter/probatio_certificate.prom",
} as const;

/**
 * Cloudflare in front (phases with a CDN): static assets cached at the edge for the roadmap's days, and, where the
 * plan includes it (Pro, Business), the managed WAF rulesets: Cloudflare's own and the OWASP core ruleset (their
 * well-known ids in every zone).
 */
export const CLOUDFLARE_EDGE = {
  staticExtensions: ["js", "css", "mjs", "map", "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "woff", "woff2", "ttf"],
  managedRulesetId: "efb7b8c949ac4650a09736fc376e9aee",
  owaspRulesetId: "4814384a9e5d4991b9815dcfc25d2f1f",
  minTlsVersion: "1.2",
} as const;

/** HAProxy's health checks of the backends: every 2 s, out after 3 failures, back after 2 successes. */
export const DEFAULT_HEALTH_CHECK = { intervalMs: 2000, fall: 3, rise: 2 } as const;

/** The application's health endpoint: HAProxy checks it, and a release is live once it answers 200. */
export const DEFAULT_HEALTH_PATH = "/health";

/** HAProxy's connection limit where the phase gives no request rate. */
export const DEFAULT_HAPROXY_MAXCONN = 20000;

/** keepalived's VRRP virtual router id (unique per broadcast domain). */
export const DEFAULT_VRRP_ROUTER_ID = 51;

/** PostgreSQL: the major version of Debian 12, and probatio's defaults where a phase does not say. */
export const DEFAULT_POSTGRES = { version: 15, managedVersion: 16, maxConnections: 100, sharedBuffers: "256MB" } as const;

/**
 * Patroni's timings (seconds), the trade-off between a fast failover and a false one. The leader renews its lock every
 * `loopWait`; the lock expires `ttl` after its last renewal, and only then may a standby take it: a dead primary is
 * replaced after about ttl - loopWait/2 (plus the promotion, under a second). `retryTimeout` is how long the leader
 * rides out an unreachable etcd or PostgreSQL before it demotes itself: a network blip shorter than it changes nothing.
 * Patroni refuses a ttl under 20 and requires loopWait + 2 x retryTimeout <= ttl. Its defaults are 30/10/10.
 */
export const DEFAULT_PATRONI_TIMINGS = { ttl: 20, loopWait: 2, retryTimeout: 5 } as const;

/** pgBouncer when the roadmap names one without a size. */
export const DEFAULT_PGBOUNCER = { poolSize: 50, port: ports.pgbouncer } as const;

/** The application's database and user. */
export const DEFAULT_DATABASE = { name: "app", user: "app" } as const;

/**
 * The name of a migration's data step in PostgreSQL: its publication, its subscription, and the login role the
 * target's subscription uses on the source (created by the data step with a one-off password, dropped when it ends).
 */
export const MIGRATION_ROLE = "probatio_migration";

/** Prometheus's scrape and rule evaluation intervals, seconds. */
export const DEFAULT_SCRAPE_INTERVAL_SECONDS = 15;
