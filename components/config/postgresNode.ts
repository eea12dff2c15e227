/**
 * What runs on a lone PostgreSQL primary (phases 0-1, and beside the application on an all-in-one) and on a pgBouncer
 * machine: packages, files, first-boot commands. Pure. A cluster with standbys is Patroni's (patroniNode.ts).
 */
import { ports } from "../../lib/defaults";
import { mergeBundles, ServiceBundle } from "./bundle";
import { DATABASE_CA_FILE } from "./databaseTls";
import { REPLICATION_USER } from "./patroni";
import {
  pgBackRestArchiveCommand,
  renderBackupCron,
  renderPgBackRestConf,
  renderPgBouncerIni,
  renderPgBouncerUserlist,
  renderPgHba,
  renderPostgresConf,
} from "./postgres";

const LOOPBACK = "127.0.0.1/32";

export interface PostgresNodeSettings {
  readonly version: number;
  readonly stanza: string;
  readonly pgData: string;
  readonly confDir: string;
  readonly database: string;
  readonly appUser: string;
  readonly maxConnections: number;
  readonly sharedBuffers: string;
  readonly allowedCidrs: readonly string[];
  readonly backup: { readonly cron: string; readonly retentionDays: number };
  readonly passwords: { readonly superuser: string; readonly app: string; readonly replication: string };
  readonly s3: {
    readonly bucket: string;
    readonly endpoint: string;
    readonly region: string;
    readonly key: string;
    readonly secret: string;
  };
  readonly pgbouncer?: { readonly poolSize: number; readonly port: number };
  /** Bastion CIDRs from which the superuser may connect (migrations). Default none. */
  readonly adminCidrs?: readonly string[];
  /** During a migration away from this primary: where the target's database connects from. Default none. */
  readonly migrationPeers?: readonly string[];
  /**
   * The server certificate (signed by the stack's database CA) PostgreSQL and pgBouncer present; without it,
   * Debian's self-signed one (classic VPS phases have it: the application verifies it).
   */
  readonly tls?: ServerTls;
}

/** A server certificate and its key (PEM). */
export interface ServerTls {
  readonly cert: string;
  readonly key: string;
}

/** Where the primary's and pgBouncer's copies of the server certificate live (each service's own directory). */
const pgTlsFiles = (confDir: string) => ({ cert: `${confDir}/probatio-server.crt`, key: `${confDir}/probatio-server.key` });
export const PGBOUNCER_TLS_FILES = { cert: "/etc/pgbouncer/probatio-server.crt", key: "/etc/pgbouncer/probatio-server.key" };

/** The certificate and key as files of `owner`: the key readable by the service only. */
function tlsFiles(tls: ServerTls, paths: { cert: string; key: string }) {
  return [
    { path: paths.cert, content: tls.cert, owner: "postgres:postgres", permissions: "0644" },
    { path: paths.key, content: tls.key, owner: "postgres:postgres", permissions: "0600" },
  ];
}

/** Packages, files and first-boot commands of a lone primary. Pure. */
export function postgresNodeBundle(s: PostgresNodeSettings): ServiceBundle {
  const sqlLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const conf = renderPostgresConf({
    listenAddresses: "*",
    port: ports.postgres,
    maxConnections: s.maxConnections,
    sharedBuffers: s.sharedBuffers,
    archiveCommand: pgBackRestArchiveCommand(s.stanza),
    tls: s.tls ? pgTlsFiles(s.confDir) : undefined,
  });
  const files = [
    { path: `${s.confDir}/conf.d/probatio.conf`, content: conf, owner: "postgres:postgres" },
    ...(s.tls ? tlsFiles(s.tls, pgTlsFiles(s.confDir)) : []),
    {
      path: `${s.confDir}/pg_hba.conf`,
      content: renderPgHba({
        // pgBouncer beside the primary connects over loopback.
        allowedCidrs: s.pgbouncer && !s.allowedCidrs.includes(LOOPBACK) ? [LOOPBACK, ...s.allowedCidrs] : s.allowedCidrs,
        replicationUser: REPLICATION_USER,
        appUser: s.appUser,
        database: s.database,
        // The operator administers a primary through an SSH tunnel to its loopback (the migration's data step does),
        // with the superuser's password: nothing new is exposed to the network.
        adminCidrs: (s.adminCidrs ?? []).includes(LOOPBACK) ? s.adminCidrs : [LOOPBACK, ...(s.adminCidrs ?? [])],
        migrationPeers: s.migrationPeers,
      }),
      permissions: "0640",
      owner: "postgres:postgres",
    },
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
  ];
  const packages = [`postgresql-${s.version}`, "pgbackrest"];
  {
    const bootstrap =
      [
        // Kept as first rendered (a change here would be delivered to every running primary for nothing).
        "SET synchronous_commit = local;",
        `ALTER ROLE postgres PASSWORD ${sqlLiteral(s.passwords.superuser)};`,
        `CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD ${sqlLiteral(s.passwords.replication)};`,
        `CREATE ROLE ${s.appUser} WITH LOGIN PASSWORD ${sqlLiteral(s.passwords.app)};`,
        `CREATE DATABASE ${s.database} OWNER ${s.appUser};`,
      ].join("\n") + "\n";
    const bundles: ServiceBundle[] = [
      {
        packages,
        files: [
          ...files,
          { path: "/etc/probatio/pg-bootstrap.sql", permissions: "0600", owner: "postgres:postgres", content: bootstrap },
          { path: "/etc/cron.d/probatio-pg-backup", content: renderBackupCron({ stanza: s.stanza, cron: s.backup.cron }) },
        ],
        commands: [
          // The cluster's own unit: `systemctl restart postgresql` returns before the cluster it restarts is back
          // (the boot test caught psql finding no socket), then wait until it accepts connections.
          `systemctl restart postgresql@${s.version}-main`,
          "timeout 120 sh -c 'until pg_isready -q; do sleep 1; done'",
          "sudo -u postgres psql -v ON_ERROR_STOP=1 -f /etc/probatio/pg-bootstrap.sql",
          "shred -u /etc/probatio/pg-bootstrap.sql",
          `sudo -u postgres pgbackrest --stanza=${s.stanza} stanza-create`,
          `sudo -u postgres pgbackrest --stanza=${s.stanza} --type=full backup`,
        ],
        services: [`postgresql@${s.version}-main`, "cron"],
      },
    ];
    if (s.pgbouncer)
      bundles.push(
        pgbouncerBundle({
          ...s.pgbouncer,
          database: s.database,
          appUser: s.appUser,
          appPassword: s.passwords.app,
          backendHost: "127.0.0.1",
          maxConnections: s.maxConnections,
          tls: s.tls,
        }),
      );
    return mergeBundles(bundles);
  }
}

export function pgbouncerBundle(s: {
  poolSize: number;
  port: number;
  database: string;
  appUser: string;
  appPassword: string;
  backendHost: string;
  /** @default 5432 */
  backendPort?: number;
  /** @default pgBouncer's (15 s) */
  serverLoginRetrySeconds?: number;
  maxConnections: number;
  /** Clients must use TLS, and are shown this certificate. @default none (plain) */
  tls?: ServerTls;
  /**
   * The stack's database CA (PEM): pgBouncer's connections to PostgreSQL use TLS and verify the server against it.
   * @default none (plain: PostgreSQL on the same machine)
   */
  serverCa?: string;
}): ServiceBundle {
  return {
    packages: ["pgbouncer"],
    files: [
      ...(s.tls ? tlsFiles(s.tls, PGBOUNCER_TLS_FILES) : []),
      ...(s.serverCa ? [{ path: DATABASE_CA_FILE, content: s.serverCa, permissions: "0644" }] : []),
      {
        path: "/etc/pgbouncer/pgbouncer.ini",
        owner: "postgres:postgres",
        permissions: "0640",
        content: renderPgBouncerIni({
          listenAddress: "0.0.0.0",
          listenPort: s.port,
          databaseName: s.database,
          backendHost: s.backendHost,
          backendPort: s.backendPort ?? ports.postgres,
          poolSize: s.poolSize,
          maxClientConnections: s.maxConnections * 5,
          authFile: "/etc/pgbouncer/userlist.txt",
          serverLoginRetrySeconds: s.serverLoginRetrySeconds,
          clientTls: s.tls ? PGBOUNCER_TLS_FILES : undefined,
          serverTlsCaFile: s.serverCa ? DATABASE_CA_FILE : undefined,
        }),
      },
      {
        path: "/etc/pgbouncer/userlist.txt",
        owner: "postgres:postgres",
        permissions: "0600",
        content: renderPgBouncerUserlist([{ name: s.appUser, password: s.appPassword }]),
      },
    ],
    commands: ["systemctl enable --now pgbouncer", "systemctl restart pgbouncer"],
    services: ["pgbouncer"],
  };
}
