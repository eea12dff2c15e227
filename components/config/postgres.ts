/**
 * PostgreSQL configuration: postgresql.conf fragment (conf.d) of a lone primary, pg_hba.conf, pgBouncer, pgBackRest
 * (WAL archive + scheduled base backups to S3-compatible Object Storage) and the backup cron entry.
 * Pure functions: typed settings in, text out.
 */
import { MIGRATION_ROLE } from "../../lib/defaults";
import { isIpv4Address, isPrivateOrLoopback } from "../cidr";

export interface PostgresConfSettings {
  /** Addresses to listen on, e.g. "127.0.0.1" or "0.0.0.0". */
  readonly listenAddresses: string;
  readonly port: number;
  readonly maxConnections: number;
  /** e.g. "1GB" (KoproGo phase 2). Default 25 % of RAM is the caller's choice. */
  readonly sharedBuffers: string;
  /** WAL archiving command; undefined disables archiving. */
  readonly archiveCommand?: string;
  /** The server certificate's files; undefined keeps Debian's (its self-signed "snakeoil"). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

function q(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

export function renderPostgresConf(s: PostgresConfSettings): string {
  const lines = [
    "# Rendered by probatio. Edit the roadmap data, not this file.",
    `listen_addresses = ${q(s.listenAddresses)}`,
    `port = ${s.port}`,
    `max_connections = ${s.maxConnections}`,
    `shared_buffers = ${q(s.sharedBuffers)}`,
    // logical (a superset of replica) so that `probatio migrate` can replicate to the next phase without a restart.
    "wal_level = logical",
    "max_wal_senders = 10",
    "max_replication_slots = 10",
    "max_logical_replication_workers = 8",
    "max_sync_workers_per_subscription = 4",
    "wal_keep_size = '1GB'",
    "hot_standby = on",
    "hot_standby_feedback = on",
    "wal_log_hints = on",
    "password_encryption = 'scram-sha-256'",
  ];
  if (s.archiveCommand) {
    lines.push("archive_mode = on", `archive_command = ${q(s.archiveCommand)}`, "archive_timeout = 60");
  }
  if (s.tls)
    lines.push("ssl = on", `ssl_cert_file = ${q(s.tls.cert)}`, `ssl_key_file = ${q(s.tls.key)}`, "ssl_min_protocol_version = 'TLSv1.3'");
  return lines.join("\n") + "\n";
}

export interface HbaSettings {
  /** Private subnets allowed to connect (application and replication). */
  readonly allowedCidrs: readonly string[];
  readonly replicationUser: string;
  readonly appUser: string;
  readonly database: string;
  /** Where the operator administers from (bastion): the superuser may connect from these, with its password. Default none. */
  readonly adminCidrs?: readonly string[];
  /**
   * During a migration, where the target's database connects from (its NAT gateway's or its machine's public
   * address): the migration's role may read this database from there, over TLS unless the address is private.
   * Default none.
   */
  readonly migrationPeers?: readonly string[];
  /**
   * The role pg_rewind logs in as (Patroni: an old primary rejoining as a standby reads the new primary's files
   * through it), from the private subnets. Default none.
   */
  readonly rewindUser?: string;
  /**
   * Every connection from the network must use TLS, private subnets included (the server holds a certificate of
   * the stack's database CA: phases 2-3). Loopback stays as it is. @default TLS only from public addresses
   */
  readonly tlsOnly?: boolean;
}

/**
 * The pg_hba line that lets a migration's role in from the next phase's database: an address (its /32), a CIDR, or a
 * host name (a classic VPS's, matched by its reverse DNS); plain only from a private or loopback range unless
 * `tlsAlways`, TLS otherwise.
 */
export function migrationHbaLine(database: string, peer: string, tlsAlways = false): string {
  const isIp = isIpv4Address(peer);
  const cidr = isIp ? `${peer}/32` : peer;
  const plain = !tlsAlways && (isIp || peer.includes("/")) && isPrivateOrLoopback(cidr);
  return `${plain ? "host   " : "hostssl"} ${database.padEnd(15)} ${MIGRATION_ROLE.padEnd(15)} ${cidr.padEnd(23)} scram-sha-256`;
}

/** pg_hba.conf: local socket for the postgres user, the private subnets only, scram passwords; everything else rejected. */
export function renderPgHba(s: HbaSettings): string {
  const lines = [
    "# Rendered by probatio: only the private subnets may connect.",
    "# TYPE  DATABASE        USER            ADDRESS                 METHOD",
    "local   all             postgres                                peer",
    "local   all             all                                     scram-sha-256",
  ];
  for (const cidr of s.allowedCidrs) {
    // A public address (a classic VPS's, no private network) is reached over the internet: TLS only; a private one
    // too where the server has the stack's certificate (tlsOnly); loopback never leaves the machine.
    const loopback = cidr.startsWith("127.");
    const plain = cidr.includes("/") && isPrivateOrLoopback(cidr) && (loopback || !s.tlsOnly);
    const type = plain ? "host   " : "hostssl";
    lines.push(`${type} ${s.database.padEnd(15)} ${s.appUser.padEnd(15)} ${cidr.padEnd(23)} scram-sha-256`);
    lines.push(`${type} replication     ${s.replicationUser.padEnd(15)} ${cidr.padEnd(23)} scram-sha-256`);
    if (s.rewindUser && (plain || s.tlsOnly))
      lines.push(`${type} postgres        ${s.rewindUser.padEnd(15)} ${cidr.padEnd(23)} scram-sha-256`);
  }
  for (const cidr of s.adminCidrs ?? []) lines.push(`host    all             postgres        ${cidr.padEnd(23)} scram-sha-256`);
  // A migration's peer too: TLS from a private address where the server has the stack's certificate.
  for (const peer of s.migrationPeers ?? []) lines.push(migrationHbaLine(s.database, peer, !!s.tlsOnly && !peer.startsWith("127.")));
  lines.push("host    all             all             0.0.0.0/0               reject");
  lines.push("host    all             all             ::/0                    reject");
  return lines.join("\n") + "\n";
}

export interface PgBouncerSettings {
  readonly listenAddress: string;
  readonly listenPort: number;
  readonly databaseName: string;
  readonly backendHost: string;
  readonly backendPort: number;
  /** Server connections per user/database pair (seed: 50). */
  readonly poolSize: number;
  /** Client connections accepted (several times the pool). */
  readonly maxClientConnections: number;
  readonly authFile: string;
  readonly authType?: "scram-sha-256" | "md5" | "plain";
  /** @default pgBouncer's (15 s) */
  readonly serverLoginRetrySeconds?: number;
  /** Clients must use TLS (TLS 1.3), shown this certificate. @default plain */
  readonly clientTls?: { readonly cert: string; readonly key: string };
  /**
   * pgBouncer's connections to PostgreSQL use TLS, the server's certificate verified against this CA file
   * (verify-ca: the leader is reached through a local proxy, whose address no certificate names). @default plain
   */
  readonly serverTlsCaFile?: string;
}

export function renderPgBouncerIni(s: PgBouncerSettings): string {
  return [
    "; Rendered by probatio.",
    "[databases]",
    `${s.databaseName} = host=${s.backendHost} port=${s.backendPort} dbname=${s.databaseName}`,
    "",
    "[pgbouncer]",
    `listen_addr = ${s.listenAddress}`,
    `listen_port = ${s.listenPort}`,
    `auth_type = ${s.authType ?? "scram-sha-256"}`,
    `auth_file = ${s.authFile}`,
    "pool_mode = transaction",
    `default_pool_size = ${s.poolSize}`,
    `max_client_conn = ${s.maxClientConnections}`,
    "server_reset_query = DISCARD ALL",
    "ignore_startup_parameters = extra_float_digits",
    ...(s.serverLoginRetrySeconds !== undefined ? [`server_login_retry = ${s.serverLoginRetrySeconds}`] : []),
    ...(s.clientTls
      ? [
          "client_tls_sslmode = require",
          `client_tls_cert_file = ${s.clientTls.cert}`,
          `client_tls_key_file = ${s.clientTls.key}`,
          "client_tls_protocols = tlsv1.3",
        ]
      : []),
    ...(s.serverTlsCaFile
      ? ["server_tls_sslmode = verify-ca", `server_tls_ca_file = ${s.serverTlsCaFile}`, "server_tls_protocols = tlsv1.3"]
      : []),
    "",
  ].join("\n");
}

/** userlist.txt for pgBouncer: "user" "password". */
export function renderPgBouncerUserlist(users: readonly { name: string; password: string }[]): string {
  return users.map((u) => `"${u.name}" "${u.password.replace(/"/g, '""')}"`).join("\n") + "\n";
}

export interface BackupSettings {
  readonly stanza: string;
  readonly bucket: string;
  /** S3 endpoint host, e.g. s3.gra.io.cloud.ovh.net. */
  readonly endpoint: string;
  /** S3 region, e.g. gra. */
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly pgDataPath: string;
  readonly retentionDays: number;
  /** cron schedule of full backups: daily in phase 0, every 6 h from phase 2. */
  readonly cron: string;
}

export function renderPgBackRestConf(s: BackupSettings): string {
  return [
    "# Rendered by probatio: base backups and WAL archive to Object Storage.",
    "[global]",
    "repo1-type=s3",
    `repo1-s3-bucket=${s.bucket}`,
    `repo1-s3-endpoint=${s.endpoint}`,
    `repo1-s3-region=${s.region}`,
    `repo1-s3-key=${s.accessKey}`,
    `repo1-s3-key-secret=${s.secretKey}`,
    "repo1-s3-uri-style=path",
    "repo1-path=/pgbackrest",
    "repo1-retention-full-type=time",
    `repo1-retention-full=${s.retentionDays}`,
    "compress-type=zst",
    "process-max=2",
    "start-fast=y",
    "",
    `[${s.stanza}]`,
    `pg1-path=${s.pgDataPath}`,
    "",
  ].join("\n");
}

export function pgBackRestArchiveCommand(stanza: string): string {
  return `pgbackrest --stanza=${stanza} archive-push %p`;
}

/** /etc/cron.d entry running the full backup on the schedule (as the postgres user). */
export function renderBackupCron(s: Pick<BackupSettings, "stanza" | "cron">): string {
  return [
    "# Rendered by probatio: PostgreSQL base backup to Object Storage.",
    "SHELL=/bin/sh",
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    `${s.cron} postgres pgbackrest --stanza=${s.stanza} --type=full backup`,
    "",
  ].join("\n");
}
