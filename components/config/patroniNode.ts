/**
 * What runs on a database machine of a cluster that fails over by itself (Patroni, phases 2-3), and on the pgBouncer
 * machine in front of it (pgBouncer, the leader-following HAProxy, the coordination store's third member). Pure.
 */
import { ports } from "../../lib/defaults";
import { derivedSecret } from "../../lib/secrets";
import { cidrContains } from "../cidr";
import { mergeBundles, ServiceBundle } from "./bundle";
import {
  BACKUP_SCRIPT,
  EtcdMember,
  PATRONI_APPLY_SCRIPT,
  PATRONI_CONFIG,
  renderEtcdDefaults,
  renderLeaderBackupScript,
  renderLeaderProxy,
  renderPatroniApplyScript,
  renderPatroniConfig,
  REPLICATION_USER,
  REWIND_USER,
} from "./patroni";
import { pgBackRestArchiveCommand, renderPgBackRestConf, renderPgHba } from "./postgres";
import { DATABASE_CA_FILE } from "./databaseTls";
import { pgbouncerBundle, PostgresNodeSettings, ServerTls } from "./postgresNode";

/** A node of a Patroni cluster: the common PostgreSQL settings, and its place in the cluster. */
export interface PatroniNodeSettings extends PostgresNodeSettings {
  /** This node: its machine name and private address. */
  readonly self: EtcdMember;
  /** Every database node of the cluster (the leader-following HAProxy and pg_hba use them). */
  readonly nodes: readonly EtcdMember[];
  /** The coordination store's three members (two database machines and the pgBouncer machine). */
  readonly etcd: readonly EtcdMember[];
  /** The node that bootstraps the cluster (the first primary); the others wait for it, then clone it. */
  readonly bootstrapper: EtcdMember;
  /** Standbys that confirm each commit (0: asynchronous). */
  readonly synchronousNodeCount: number;
  /**
   * This node's certificate (naming its address) and the stack's database CA (PEM): every connection from the
   * network uses TLS (pg_hba's hostssl), replication included. @default plain on the private network
   */
  readonly tls?: ServerTls & { readonly ca: string };
}

/** Where a node keeps its certificate (PostgreSQL reads it; Patroni names it in the server's parameters). */
export const PATRONI_TLS_FILES = { cert: "/etc/patroni/probatio-server.crt", key: "/etc/patroni/probatio-server.key" };

const LOOPBACK = "127.0.0.1/32";
const POST_BOOTSTRAP = "/etc/patroni/post-bootstrap.sh";
const BOOTSTRAP_SQL = "/etc/patroni/bootstrap.sql";
/** How long a first boot waits for the cluster (the bootstrapper installs its packages meanwhile). */
const FIRST_BOOT_WAIT_S = 900;

/** The passwords Patroni needs beyond the cluster's three, derived from the replication role's (one secret less to keep). */
export function patroniPasswords(replication: string): { rewind: string; restApi: string } {
  return { rewind: derivedSecret(replication, "postgres-rewind"), restApi: derivedSecret(replication, "patroni-rest-api") };
}

/** The etcd member bundle (a database machine or the pgBouncer machine). */
export function etcdMemberBundle(self: EtcdMember, members: readonly EtcdMember[], token: string): ServiceBundle {
  return {
    packages: ["etcd-server"],
    files: [{ path: "/etc/default/etcd", content: renderEtcdDefaults(self, members, token) }],
    commands: [
      // The package started a single-member store of its own when it was installed: it is not this cluster's.
      "systemctl stop etcd",
      "rm -rf /var/lib/etcd/default",
      // Not waited for: a member is ready once a majority is up, and the others may still be installing.
      "systemctl enable etcd",
      "systemctl start --no-block etcd",
    ],
    services: ["etcd"],
  };
}

export function patroniNodeBundle(s: PatroniNodeSettings): ServiceBundle {
  const sqlLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const extra = patroniPasswords(s.passwords.replication);
  // Every node replicates from whichever is the leader: each one's address, unless an allowed subnet holds it already.
  // Loopback too: Patroni asks its own server over a local replication connection where a rejoining node stands.
  const peers = [LOOPBACK, ...s.nodes.map((n) => `${n.address}/32`)].filter(
    (c) => !s.allowedCidrs.some((a) => a.includes("/") && cidrContains(a, c)),
  );
  const hba = renderPgHba({
    allowedCidrs: [...s.allowedCidrs, ...peers],
    replicationUser: REPLICATION_USER,
    appUser: s.appUser,
    database: s.database,
    // The operator administers the leader through an SSH tunnel to its loopback (the migration's data step does).
    adminCidrs: [LOOPBACK, ...(s.adminCidrs ?? []).filter((c) => c !== LOOPBACK)],
    migrationPeers: s.migrationPeers,
    rewindUser: REWIND_USER,
    tlsOnly: !!s.tls,
  })
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
  const config = renderPatroniConfig({
    scope: s.stanza,
    name: s.self.name,
    address: s.self.address,
    etcd: s.etcd,
    version: s.version,
    pgData: s.pgData,
    passwords: { superuser: s.passwords.superuser, replication: s.passwords.replication, ...extra },
    synchronousNodeCount: s.synchronousNodeCount,
    maxConnections: s.maxConnections,
    sharedBuffers: s.sharedBuffers,
    archiveCommand: pgBackRestArchiveCommand(s.stanza),
    pgHba: hba,
    postBootstrap: POST_BOOTSTRAP,
    tls: s.tls ? { ...PATRONI_TLS_FILES, caFile: DATABASE_CA_FILE } : undefined,
  });
  const bootstraps = s.self.name === s.bootstrapper.name;
  // Silent: a first boot's log lists only what failed (a wait that is not over yet has not failed).
  const api = (host: string, path: string) => `curl -fs -o /dev/null -m 3 http://${host}:${ports.patroni}${path}`;
  const patroni: ServiceBundle = {
    packages: [`postgresql-${s.version}`, "pgbackrest", "patroni", "python3-etcd", "curl"],
    files: [
      { path: PATRONI_CONFIG, content: config, permissions: "0600", owner: "postgres:postgres" },
      {
        // Run by Patroni on the node that bootstraps the cluster, with the superuser's URL: the application's role and database.
        path: POST_BOOTSTRAP,
        permissions: "0700",
        owner: "postgres:postgres",
        content: `#!/bin/sh\nset -eu\nexec psql "$1" -v ON_ERROR_STOP=1 -f ${BOOTSTRAP_SQL}\n`,
      },
      {
        path: BOOTSTRAP_SQL,
        permissions: "0600",
        owner: "postgres:postgres",
        content:
          [
            `CREATE ROLE ${s.appUser} WITH LOGIN PASSWORD ${sqlLiteral(s.passwords.app)};`,
            `CREATE DATABASE ${s.database} OWNER ${s.appUser};`,
          ].join("\n") + "\n",
      },
      ...(s.tls
        ? [
            { path: PATRONI_TLS_FILES.cert, content: s.tls.cert, owner: "postgres:postgres", permissions: "0644" },
            { path: PATRONI_TLS_FILES.key, content: s.tls.key, owner: "postgres:postgres", permissions: "0600" },
            { path: DATABASE_CA_FILE, content: s.tls.ca, permissions: "0644" },
          ]
        : []),
      { path: PATRONI_APPLY_SCRIPT, permissions: "0700", content: renderPatroniApplyScript() },
      { path: BACKUP_SCRIPT, permissions: "0755", content: renderLeaderBackupScript(s.stanza) },
      {
        path: "/etc/pgbackrest/pgbackrest.conf",
        permissions: "0640",
        owner: "postgres:postgres",
        content: renderPgBackRestConf({
          stanza: s.stanza,
          bucket: s.s3.bucket,
          endpoint: s.s3.endpoint,
          region: s.s3.region,
          accessKey: s.s3.key,
          secretKey: s.s3.secret,
          pgDataPath: s.pgData,
          retentionDays: s.backup.retentionDays,
          cron: s.backup.cron,
        }),
      },
      {
        path: "/etc/cron.d/probatio-pg-backup",
        content: [
          "# Rendered by probatio: PostgreSQL base backup to Object Storage, by whichever node leads.",
          "SHELL=/bin/sh",
          "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
          `${s.backup.cron} postgres ${BACKUP_SCRIPT}`,
          "",
        ].join("\n"),
      },
    ],
    commands: [
      // Debian's package created and started a cluster of its own: Patroni creates (or clones) the cluster instead.
      `pg_dropcluster --stop ${s.version} main`,
      ...(bootstraps
        ? []
        : [
            // The first primary bootstraps the cluster; this node clones it once it leads (and not before: a node
            // that found no cluster would race to bootstrap one of its own).
            `timeout ${FIRST_BOOT_WAIT_S} sh -c 'until ${api(s.bootstrapper.address, "/primary")}; do sleep 5; done'`,
          ]),
      "systemctl enable patroni",
      "systemctl start patroni",
      `timeout ${FIRST_BOOT_WAIT_S} sh -c 'until ${api("127.0.0.1", bootstraps ? "/primary" : "/replica")}; do sleep 2; done'`,
      ...(bootstraps
        ? [
            `sudo -u postgres pgbackrest --stanza=${s.stanza} stanza-create`,
            `sudo -u postgres pgbackrest --stanza=${s.stanza} --type=full backup`,
          ]
        : []),
    ],
    services: ["patroni", "cron"],
  };
  const member = s.etcd.find((m) => m.name === s.self.name);
  return mergeBundles(member ? [etcdMemberBundle(member, s.etcd, s.stanza), patroni] : [patroni]);
}

/** The pgBouncer machine of a Patroni cluster: pgBouncer to the local leader-following HAProxy, and an etcd member. */
export function pgbouncerLeaderBundle(s: {
  readonly self: EtcdMember;
  readonly nodes: readonly EtcdMember[];
  readonly etcd: readonly EtcdMember[];
  readonly scope: string;
  readonly pgbouncer: Omit<Parameters<typeof pgbouncerBundle>[0], "backendHost" | "backendPort">;
}): ServiceBundle {
  const bundles: ServiceBundle[] = [
    {
      packages: ["haproxy"],
      files: [{ path: "/etc/haproxy/haproxy.cfg", content: renderLeaderProxy(s.nodes) }],
      commands: ["systemctl restart haproxy"],
      services: ["haproxy"],
    },
    // A failed login to the leader (none yet, mid-failover) is retried after a second, not pgBouncer's default 15.
    pgbouncerBundle({ ...s.pgbouncer, backendHost: "127.0.0.1", backendPort: ports.postgresLeader, serverLoginRetrySeconds: 1 }),
  ];
  const member = s.etcd.find((m) => m.name === s.self.name);
  if (member) bundles.unshift(etcdMemberBundle(member, s.etcd, s.scope));
  return mergeBundles(bundles);
}
