/** What runs on a PostgreSQL node (primary or standby) and on a pgBouncer machine: packages, files, first-boot commands. Pure. */
import { ports } from "../../lib/defaults";
import { mergeBundles, ServiceBundle } from "./bundle";
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

/** Standby i's name as the primary knows it (application_name and replication slot). */
export function standbyName(i: number): string {
  return `standby${i + 1}`;
}

export interface PostgresNodeSettings {
  readonly kind: "primary" | "standby";
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
  readonly syncStandbys: readonly string[];
  readonly slots: readonly string[];
  readonly standbyName?: string;
  readonly primaryHost?: string;
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
}

const REPLICATION_USER = "replicator";

/** Packages, files and first-boot commands of a PostgreSQL node. Pure. */
export function postgresNodeBundle(s: PostgresNodeSettings): ServiceBundle {
  const sqlLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const conf = renderPostgresConf({
    listenAddresses: "*",
    port: ports.postgres,
    maxConnections: s.maxConnections,
    sharedBuffers: s.sharedBuffers,
    synchronousStandbys: s.syncStandbys,
    standbyCount: Math.max(s.slots.length, 1),
    archiveCommand: pgBackRestArchiveCommand(s.stanza),
    primaryConninfo: s.kind === "standby" ? `host=${s.primaryHost} port=${ports.postgres} user=${REPLICATION_USER}` : undefined,
    primarySlotName: s.standbyName,
    applicationName: s.standbyName,
  });
  const files = [
    { path: `${s.confDir}/conf.d/probatio.conf`, content: conf, owner: "postgres:postgres" },
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
        adminCidrs: s.kind === "primary" && !(s.adminCidrs ?? []).includes(LOOPBACK) ? [LOOPBACK, ...(s.adminCidrs ?? [])] : s.adminCidrs,
        migrationPeers: s.kind === "primary" ? s.migrationPeers : undefined,
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
    {
      path: "/var/lib/postgresql/.pgpass",
      permissions: "0600",
      owner: "postgres:postgres",
      content: `*:${ports.postgres}:replication:${REPLICATION_USER}:${s.passwords.replication}\n`,
    },
  ];
  const packages = [`postgresql-${s.version}`, "pgbackrest"];
  if (s.kind === "primary") {
    const bootstrap =
      [
        // The standbys do not exist yet: with synchronous_standby_names set, these commits would wait for a sync
        // standby that needs the replication role created here (a deadlock at first boot).
        "SET synchronous_commit = local;",
        `ALTER ROLE postgres PASSWORD ${sqlLiteral(s.passwords.superuser)};`,
        `CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD ${sqlLiteral(s.passwords.replication)};`,
        `CREATE ROLE ${s.appUser} WITH LOGIN PASSWORD ${sqlLiteral(s.passwords.app)};`,
        `CREATE DATABASE ${s.database} OWNER ${s.appUser};`,
        ...s.slots.map((slot) => `SELECT pg_create_physical_replication_slot(${sqlLiteral(slot)});`),
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
        }),
      );
    return mergeBundles(bundles);
  }
  return {
    packages,
    files,
    commands: [
      // The cluster's own unit, so that stop waits for the server to be gone before its data directory is.
      `systemctl stop postgresql@${s.version}-main`,
      `rm -rf ${s.pgData}`,
      // The primary boots at the same time and creates the replication role and slots on its first boot: retry
      // (for up to 15 minutes) until it can serve the base backup, then check one was taken.
      // No -R: it would write its own primary_conninfo into postgresql.auto.conf, which overrides ours and drops the
      // application_name that synchronous_standby_names names (every commit on the primary then waits for ever: the
      // phase 3 boot test caught it). Our conf.d carries primary_conninfo and the slot; the signal file makes it a standby.
      `for i in $(seq 1 90); do sudo -u postgres pg_basebackup -h ${s.primaryHost} -U ${REPLICATION_USER} -D ${s.pgData} -X stream -S ${s.standbyName} && break; rm -rf ${s.pgData}; sleep 10; done`,
      `test -f ${s.pgData}/PG_VERSION`,
      `sudo -u postgres touch ${s.pgData}/standby.signal`,
      `systemctl start postgresql@${s.version}-main`,
    ],
    services: [`postgresql@${s.version}-main`],
  };
}

export function pgbouncerBundle(s: {
  poolSize: number;
  port: number;
  database: string;
  appUser: string;
  appPassword: string;
  backendHost: string;
  maxConnections: number;
}): ServiceBundle {
  return {
    packages: ["pgbouncer"],
    files: [
      {
        path: "/etc/pgbouncer/pgbouncer.ini",
        owner: "postgres:postgres",
        permissions: "0640",
        content: renderPgBouncerIni({
          listenAddress: "0.0.0.0",
          listenPort: s.port,
          databaseName: s.database,
          backendHost: s.backendHost,
          backendPort: ports.postgres,
          poolSize: s.poolSize,
          maxClientConnections: s.maxConnections * 5,
          authFile: "/etc/pgbouncer/userlist.txt",
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
