/**
 * PostgreSQL that fails over by itself (phases 2-3): Patroni on every database machine, etcd as its coordination
 * store, and on the pgBouncer machine an HAProxy that always leads to the current leader (Patroni's /primary health
 * endpoint), so that the application keeps one address. Pure functions: typed settings in, text out.
 *
 * Patroni owns PostgreSQL's configuration on these machines: postgresql.conf, pg_hba.conf and
 * synchronous_standby_names are written by it, from this file's YAML. The settings every node must share (the
 * timings, synchronous mode, max_connections, the WAL settings) live in etcd once the cluster is bootstrapped; a
 * change of them is applied by `probatio-patroni-apply` (the in-place delivery runs it), which reloads the local file
 * and PATCHes the shared part through Patroni's REST API.
 */
import { stringify } from "yaml";
import { DEFAULT_PATRONI_TIMINGS, ports } from "../../lib/defaults";

/** A member of the coordination store: its machine name and private address. */
export interface EtcdMember {
  readonly name: string;
  readonly address: string;
}

export interface PatroniSettings {
  /** The cluster's name in etcd (the stack). */
  readonly scope: string;
  /** This node's name (its machine name). */
  readonly name: string;
  /** This node's private address (PostgreSQL and the REST API listen there for the others). */
  readonly address: string;
  readonly etcd: readonly EtcdMember[];
  readonly version: number;
  readonly pgData: string;
  readonly passwords: {
    readonly superuser: string;
    readonly replication: string;
    readonly rewind: string;
    /** Patroni's REST API: its unsafe endpoints (configuration, switchover) ask for it. */
    readonly restApi: string;
  };
  /** Standbys that must confirm each commit: 0 is asynchronous replication (phase 2), 1 synchronous (phase 3). */
  readonly synchronousNodeCount: number;
  readonly maxConnections: number;
  readonly sharedBuffers: string;
  readonly archiveCommand: string;
  /** pg_hba.conf lines (Patroni writes the file). */
  readonly pgHba: readonly string[];
  /** Script run once on the node that bootstraps the cluster, given the superuser's connection URL. */
  readonly postBootstrap: string;
  /** @default DEFAULT_PATRONI_TIMINGS */
  readonly timings?: { readonly ttl: number; readonly loopWait: number; readonly retryTimeout: number };
  /**
   * The node's certificate files and the stack's database CA: PostgreSQL takes TLS, and the standbys' replication
   * and pg_rewind connections to the leader use it, verifying the leader against the CA. @default plain
   */
  readonly tls?: { readonly cert: string; readonly key: string; readonly caFile: string };
}

export const PATRONI_CONFIG = "/etc/patroni/config.yml";
export const REPLICATION_USER = "replicator";
export const REWIND_USER = "rewinder";
export const PATRONI_API_USER = "probatio";

/** The part of Patroni's configuration every node shares (kept in etcd after the bootstrap). */
export function sharedConfig(s: PatroniSettings) {
  const t = s.timings ?? DEFAULT_PATRONI_TIMINGS;
  return {
    ttl: t.ttl,
    loop_wait: t.loopWait,
    retry_timeout: t.retryTimeout,
    // A standby more than 1 MiB behind is not promoted (asynchronous mode); in synchronous mode only the standby that
    // confirmed every commit may be.
    maximum_lag_on_failover: 1048576,
    synchronous_mode: s.synchronousNodeCount > 0,
    // Not strict: with no synchronous standby left, the primary goes on alone rather than blocking every commit;
    // Patroni then promotes nobody automatically if the primary dies too (it could have lost a commit).
    synchronous_mode_strict: false,
    synchronous_node_count: Math.max(1, s.synchronousNodeCount),
    postgresql: {
      use_pg_rewind: true,
      use_slots: true,
      parameters: {
        max_connections: s.maxConnections,
        // logical (a superset of replica) so that `probatio migrate` can replicate to the next phase without a restart.
        wal_level: "logical",
        max_wal_senders: 10,
        max_replication_slots: 10,
        max_logical_replication_workers: 8,
        max_sync_workers_per_subscription: 4,
        wal_keep_size: "1GB",
        // A standby that died without closing its connection (a crash, a cut link) is dropped after 10 s, not 60:
        // until then a synchronous one holds every commit.
        wal_sender_timeout: "10s",
        hot_standby: "on",
        hot_standby_feedback: "on",
        // pg_rewind needs it: the old primary rejoins as a standby without a new base backup.
        wal_log_hints: "on",
        password_encryption: "scram-sha-256",
        archive_mode: "on",
        archive_command: s.archiveCommand,
        archive_timeout: 60,
      },
    },
  };
}

/** /etc/patroni/config.yml of one node. */
export function renderPatroniConfig(s: PatroniSettings): string {
  // verify-ca, not verify-full: Patroni also replicates from its own server over loopback, which no certificate names.
  const clientTls = s.tls ? { sslmode: "verify-ca", sslrootcert: s.tls.caFile } : {};
  const serverTls = s.tls ? { ssl: "on", ssl_cert_file: s.tls.cert, ssl_key_file: s.tls.key, ssl_min_protocol_version: "TLSv1.3" } : {};
  const doc = {
    scope: s.scope,
    namespace: "/probatio/",
    name: s.name,
    restapi: {
      listen: `0.0.0.0:${ports.patroni}`,
      connect_address: `${s.address}:${ports.patroni}`,
      authentication: { username: PATRONI_API_USER, password: s.passwords.restApi },
    },
    etcd3: { hosts: s.etcd.map((m) => `${m.address}:${ports.etcdClient}`) },
    bootstrap: {
      dcs: sharedConfig(s),
      initdb: [{ encoding: "UTF8" }, { locale: "C.UTF-8" }, "data-checksums"],
      post_bootstrap: s.postBootstrap,
    },
    postgresql: {
      listen: `0.0.0.0:${ports.postgres}`,
      connect_address: `${s.address}:${ports.postgres}`,
      data_dir: s.pgData,
      bin_dir: `/usr/lib/postgresql/${s.version}/bin`,
      pgpass: "/var/lib/postgresql/.pgpass.patroni",
      use_unix_socket: true,
      authentication: {
        superuser: { username: "postgres", password: s.passwords.superuser },
        replication: { username: REPLICATION_USER, password: s.passwords.replication, ...clientTls },
        rewind: { username: REWIND_USER, password: s.passwords.rewind, ...clientTls },
      },
      parameters: { shared_buffers: s.sharedBuffers, unix_socket_directories: "/var/run/postgresql", ...serverTls },
      pg_hba: [...s.pgHba],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  return "# Rendered by probatio: Patroni owns this node's PostgreSQL configuration.\n" + stringify(doc, { lineWidth: 0 });
}

/** /etc/default/etcd of a member: a static three-member cluster on the private network. */
export function renderEtcdDefaults(self: EtcdMember, members: readonly EtcdMember[], token: string): string {
  const peer = (m: EtcdMember) => `http://${m.address}:${ports.etcdPeer}`;
  return [
    "# Rendered by probatio: a member of the coordination store of PostgreSQL's failover.",
    `ETCD_NAME="${self.name}"`,
    'ETCD_DATA_DIR="/var/lib/etcd/default"',
    `ETCD_LISTEN_PEER_URLS="${peer(self)}"`,
    `ETCD_LISTEN_CLIENT_URLS="http://${self.address}:${ports.etcdClient},http://127.0.0.1:${ports.etcdClient}"`,
    `ETCD_ADVERTISE_CLIENT_URLS="http://${self.address}:${ports.etcdClient}"`,
    `ETCD_INITIAL_ADVERTISE_PEER_URLS="${peer(self)}"`,
    `ETCD_INITIAL_CLUSTER="${members.map((m) => `${m.name}=${peer(m)}`).join(",")}"`,
    'ETCD_INITIAL_CLUSTER_STATE="new"',
    `ETCD_INITIAL_CLUSTER_TOKEN="${token}"`,
    "",
  ].join("\n");
}

/**
 * HAProxy on the pgBouncer machine's loopback: one port that leads to whichever node Patroni's REST API calls the
 * primary (200 on /primary; a standby answers 503). A node marked down has its sessions cut, so that pgBouncer
 * reconnects to the new leader instead of waiting on a dead one.
 */
export function renderLeaderProxy(nodes: readonly EtcdMember[]): string {
  return [
    "# Rendered by probatio: the PostgreSQL leader, as Patroni names it, on one local port for pgBouncer.",
    "global",
    "    log /dev/log local0",
    "    maxconn 2000",
    "    user haproxy",
    "    group haproxy",
    "    daemon",
    "",
    "defaults",
    "    mode tcp",
    "    log global",
    "    timeout connect 3s",
    "    timeout client 30m",
    "    timeout server 30m",
    "    timeout check 2s",
    "",
    "listen postgres-leader",
    `    bind 127.0.0.1:${ports.postgresLeader}`,
    "    option httpchk GET /primary",
    "    http-check expect status 200",
    "    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions",
    ...nodes.map((n) => `    server ${n.name} ${n.address}:${ports.postgres} check port ${ports.patroni}`),
    "",
  ].join("\n");
}

/** Script the in-place delivery runs when this node's Patroni file changes: local part by reload, shared part by PATCH. */
export const PATRONI_APPLY_SCRIPT = "/usr/local/sbin/probatio-patroni-apply";

export function renderPatroniApplyScript(): string {
  return [
    "#!/bin/sh",
    "# Rendered by probatio: apply /etc/patroni/config.yml to a running Patroni node.",
    "set -eu",
    "systemctl reload patroni",
    // The shared part (bootstrap.dcs) is only read at the bootstrap: once the cluster exists it lives in etcd.
    `python3 - <<'EOF'`,
    "import base64, json, urllib.request, yaml",
    `c = yaml.safe_load(open("${PATRONI_CONFIG}"))`,
    'auth = c["restapi"]["authentication"]',
    `req = urllib.request.Request("http://127.0.0.1:${ports.patroni}/config", data=json.dumps(c["bootstrap"]["dcs"]).encode(), method="PATCH")`,
    'req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[\'username\']}:{auth[\'password\']}".encode()).decode())',
    'req.add_header("Content-Type", "application/json")',
    "urllib.request.urlopen(req, timeout=30).read()",
    "EOF",
    "",
  ].join("\n");
}

/** Cron's backup script: only the leader backs up (pgBackRest backs up a primary), the standbys' entries do nothing. */
export const BACKUP_SCRIPT = "/usr/local/sbin/probatio-pg-backup";

export function renderLeaderBackupScript(stanza: string): string {
  return [
    "#!/bin/sh",
    "# Rendered by probatio: a full backup to Object Storage, on the node that is the PostgreSQL leader now.",
    "set -eu",
    `if ! curl -fsS -o /dev/null -m 5 http://127.0.0.1:${ports.patroni}/primary; then echo "not the leader: no backup here"; exit 0; fi`,
    `exec pgbackrest --stanza=${stanza} --type=full backup`,
    "",
  ].join("\n");
}
