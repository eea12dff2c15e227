import * as pulumi from "@pulumi/pulumi";
import { ServiceBundle, bundleToCloudInit, mergeBundles } from "./config/bundle";
import {
  pgBackRestArchiveCommand, renderBackupCron, renderPgBackRestConf, renderPgHba, renderPostgresConf,
} from "./config/postgres";
import { renderPgBouncerIni, renderPgBouncerUserlist } from "./config/postgres";
import { machineName } from "./labels";
import { ArgumentError, requirePositiveInteger } from "./validation";
import { VpsFleet } from "./vpsFleet";

export type StandbyMode = "sync" | "async";

export interface PostgresMachines {
  /** "public-cloud" or "ovh-vps". Default "public-cloud". */
  readonly variant?: "public-cloud" | "ovh-vps";
  /** Flavour or VPS plan code. Required. */
  readonly offer: string;
  /** SSH public key (ovh-vps) / key pair name (public-cloud). Default none. */
  readonly sshPublicKey?: pulumi.Input<string>;
  readonly keyPair?: pulumi.Input<string>;
  /** Private network and security groups (public-cloud). Default none. */
  readonly networkId?: pulumi.Input<string>;
  readonly securityGroups?: readonly pulumi.Input<string>[];
}

export interface PostgresPasswords {
  readonly superuser: pulumi.Input<string>;
  readonly app: pulumi.Input<string>;
  readonly replication: pulumi.Input<string>;
}

export interface PostgresClusterArgs {
  /** Stack name (machine names). Required. */
  readonly stack: string;
  /** Phase (machine labels). Required. */
  readonly phase: number;
  /** "self-managed" (machines + rendered configs) or "managed" (OVH Cloud Databases). Default "self-managed". */
  readonly variant?: "self-managed" | "managed";
  /** PostgreSQL major version. Default 15. */
  readonly version?: number;
  /** Standbys, each "sync" or "async" (self-managed). Default none. At most one "sync" is needed; all are accepted. */
  readonly standbys?: readonly StandbyMode[];
  /** max_connections. Default 100. */
  readonly maxConnections?: number;
  /** shared_buffers. Default "256MB". */
  readonly sharedBuffers?: string;
  /** pgBouncer in front of the primary (self-managed) or a connection pool (managed). Default none. */
  readonly pgbouncer?: { readonly poolSize: number; readonly port: number };
  /** Base backup schedule (cron) and retention in days. Required. */
  readonly backup: { readonly cron: string; readonly retentionDays: number };
  /** Subnets (or, for classic VPS without a private network, host names) allowed to connect. Required, at least one. */
  readonly allowedCidrs: readonly pulumi.Input<string>[];
  /** Fixed private addresses of the primary and standbys (self-managed on a private network). Default DHCP. */
  readonly fixedIps?: readonly string[];
  /** Passwords (Pulumi secrets). Required. */
  readonly passwords: PostgresPasswords;
  /** Application database and user. Default "app" / "app". */
  readonly database?: string;
  readonly appUser?: string;
  /** OVH Public Cloud project id (backups bucket, managed database). Required. */
  readonly cloudProject: pulumi.Input<string>;
  /** Region. Default "GRA11". */
  readonly region?: string;
  /** Name of the backups bucket. Default "<stack>-pg-backups". */
  readonly bucketName?: string;
  /** Machine role of the primary. Default "database". */
  readonly role?: string;
  /** Machines to create (self-managed, not colocated). */
  readonly machines?: PostgresMachines;
  /** PostgreSQL runs on a machine the caller creates (all-in-one); the cluster only renders `colocatedBundle`. Default false. */
  readonly colocated?: boolean;
  /** Managed variant: plan, flavour, node count (primary + replicas), network. */
  readonly managed?: {
    readonly plan: string;
    readonly flavor: string;
    readonly nodes: number;
    readonly networkId?: pulumi.Input<string>;
    readonly subnetId?: pulumi.Input<string>;
    readonly backupRegions?: readonly string[];
  };
  /** Protect data-bearing resources from deletion. Default true. */
  readonly protect?: boolean;
}

export function validatePostgresClusterArgs(args: PostgresClusterArgs): void {
  const variant = args.variant ?? "self-managed";
  const max = args.maxConnections ?? 100;
  requirePositiveInteger("PostgresCluster", "maxConnections", max, 10000);
  if (args.allowedCidrs.length === 0) throw new ArgumentError("PostgresCluster", "allowedCidrs", "must list at least one private subnet");
  if (args.allowedCidrs.some((c) => typeof c === "string" && (c === "0.0.0.0/0" || c === "::/0" || c.endsWith("/0")))) {
    throw new ArgumentError("PostgresCluster", "allowedCidrs", "must not open the database to the internet (0.0.0.0/0)");
  }
  if (!/^(\*|[0-9*/,-]+)( (\*|[0-9*/,-]+)){4}$/.test(args.backup.cron)) {
    throw new ArgumentError("PostgresCluster", "backup.cron", `must be a 5-field cron schedule (got '${args.backup.cron}')`);
  }
  requirePositiveInteger("PostgresCluster", "backup.retentionDays", args.backup.retentionDays, 3650);
  if (args.pgbouncer) {
    requirePositiveInteger("PostgresCluster", "pgbouncer.poolSize", args.pgbouncer.poolSize);
    if (args.pgbouncer.poolSize >= max) {
      throw new ArgumentError("PostgresCluster", "pgbouncer.poolSize", `must be below maxConnections (${max}), got ${args.pgbouncer.poolSize}`);
    }
  }
  if (variant === "self-managed") {
    if (!args.colocated && !args.machines) throw new ArgumentError("PostgresCluster", "machines", "is required for a self-managed cluster that is not colocated");
    if (args.colocated && (args.standbys?.length ?? 0) > 0) throw new ArgumentError("PostgresCluster", "standbys", "needs dedicated machines (colocated is single-node)");
  } else {
    if (!args.managed) throw new ArgumentError("PostgresCluster", "managed", "is required for the managed variant");
    requirePositiveInteger("PostgresCluster", "managed.nodes", args.managed.nodes, 3);
  }
}

/** Standby i's name as the primary knows it (application_name and replication slot). */
export function standbyName(i: number): string {
  return `standby${i + 1}`;
}

/** PostgreSQL: self-managed (primary, standbys, pgBouncer, WAL + base backups to Object Storage) or OVH managed. */
export class PostgresCluster extends pulumi.ComponentResource {
  /** Host applications connect to (pgBouncer when present). */
  public readonly endpoint: pulumi.Output<string>;
  public readonly port: pulumi.Output<number>;
  /** The Object Storage bucket holding base backups and WAL (self-managed). */
  public readonly backupBucket?: pulumi.Output<string>;
  /** Addresses of the primary and standbys (self-managed, dedicated machines). */
  public readonly addresses: pulumi.Output<string>[] = [];
  /** Services to add to the caller's machine when colocated. */
  public readonly colocatedBundle?: pulumi.Output<ServiceBundle>;

  constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:database:PostgresCluster", name, {}, opts);
    validatePostgresClusterArgs(args);
    const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
    const protect = args.protect ?? true;
    const region = args.region ?? "GRA11";
    const storageRegion = region.replace(/[0-9]+$/, "");
    const database = args.database ?? "app";
    const appUser = args.appUser ?? "app";

    if ((args.variant ?? "self-managed") === "managed") {
      const m = args.managed!;
      const cluster = new ovh.cloudproject.Database(`${name}-managed`, {
        serviceName: args.cloudProject,
        description: `${args.stack} PostgreSQL (probatio phase ${args.phase})`,
        engine: "postgresql",
        version: String(args.version ?? 16),
        plan: m.plan,
        flavor: m.flavor,
        nodes: Array.from({ length: m.nodes }, () => ({ region: storageRegion, networkId: m.networkId, subnetId: m.subnetId })),
        ipRestrictions: args.allowedCidrs.map((ip) => ({ ip, description: "backend subnet" })),
        backupRegions: m.backupRegions ? [...m.backupRegions] : [storageRegion],
        backupTime: "03:00:00",
        deletionProtection: true,
      }, { parent: this, protect });
      const user = new ovh.cloudprojectdatabase.PostgresSqlUser(`${name}-app-user`, {
        serviceName: args.cloudProject, clusterId: cluster.id, name: appUser,
      }, { parent: this });
      const db = new ovh.cloudprojectdatabase.DatabaseInstance(`${name}-app-db`, {
        serviceName: args.cloudProject, clusterId: cluster.id, engine: "postgresql", name: database,
      }, { parent: this, protect });
      if (args.pgbouncer) {
        new ovh.cloudprojectdatabase.PostgresSqlConnectionPool(`${name}-pool`, {
          serviceName: args.cloudProject, clusterId: cluster.id, databaseId: db.id, userId: user.id,
          name: `${database}-pool`, mode: "transaction", size: args.pgbouncer.poolSize,
        }, { parent: this });
      }
      this.endpoint = cluster.endpoints.apply((e) => e?.[0]?.domain ?? "");
      this.port = cluster.endpoints.apply((e) => e?.[0]?.port ?? 5432);
      this.registerOutputs({ endpoint: this.endpoint, port: this.port });
      return;
    }

    // Self-managed: a bucket and a dedicated Object Storage user for pgBackRest.
    const bucket = new ovh.cloudproject.Storage(`${name}-backups`, {
      serviceName: args.cloudProject,
      regionName: storageRegion,
      name: args.bucketName ?? `${args.stack}-pg-backups`,
      versioning: { status: "enabled" },
      encryption: { sseAlgorithm: "AES256" },
    }, { parent: this, protect });
    const backupUser = new ovh.cloudproject.User(`${name}-backup-user`, {
      serviceName: args.cloudProject,
      description: `${args.stack} pgBackRest`,
      roleNames: ["objectstore_operator"],
    }, { parent: this });
    const s3 = new ovh.cloudproject.S3Credential(`${name}-backup-s3`, {
      serviceName: args.cloudProject, userId: backupUser.id,
    }, { parent: this });
    this.backupBucket = bucket.name;

    const version = args.version ?? 15;
    const standbys = args.standbys ?? [];
    const stanza = args.stack;
    const pgData = `/var/lib/postgresql/${version}/main`;
    const confDir = `/etc/postgresql/${version}/main`;
    const common = {
      version, stanza, pgData, confDir, database, appUser,
      maxConnections: args.maxConnections ?? 100,
      sharedBuffers: args.sharedBuffers ?? "256MB",
      allowedCidrs: args.allowedCidrs,
      backup: args.backup,
      retentionDays: args.backup.retentionDays,
    };
    const secrets = pulumi.all([args.passwords.superuser, args.passwords.app, args.passwords.replication, s3.accessKeyId, s3.secretAccessKey, bucket.name, pulumi.all([...args.allowedCidrs])]);

    const primaryBundle = secrets.apply(([superPw, appPw, replPw, key, secret, bucketName, allowed]) => postgresNodeBundle({
      ...common, allowedCidrs: allowed, kind: "primary", passwords: { superuser: superPw, app: appPw, replication: replPw },
      syncStandbys: standbys.map((m, i) => (m === "sync" ? standbyName(i) : undefined)).filter((n): n is string => !!n),
      slots: standbys.map((_, i) => standbyName(i)),
      s3: { bucket: bucketName, endpoint: `s3.${storageRegion.toLowerCase()}.io.cloud.ovh.net`, region: storageRegion.toLowerCase(), key, secret },
      pgbouncer: args.pgbouncer,
    }));

    if (args.colocated) {
      this.colocatedBundle = primaryBundle;
      this.endpoint = pulumi.output("127.0.0.1");
      this.port = pulumi.output(args.pgbouncer?.port ?? 5432);
      this.registerOutputs({ endpoint: this.endpoint, port: this.port, backupBucket: this.backupBucket });
      return;
    }

    const role = args.role ?? "database";
    const m = args.machines!;
    const machineArgs = {
      phase: args.phase, stack: args.stack, variant: m.variant, offer: m.offer, region,
      sshPublicKey: m.sshPublicKey, keyPair: m.keyPair, networkId: m.networkId, securityGroups: m.securityGroups,
    };
    const primary = new VpsFleet(`${name}-primary`, {
      ...machineArgs, role, count: 1, fixedIps: args.fixedIps?.slice(0, 1),
      userData: [primaryBundle.apply((b) => bundleToCloudInit(machineName(args.stack, role, 0), b))],
    }, { parent: this, protect });
    const primaryHost = primary.addresses[0];
    this.addresses.push(primaryHost);
    if (standbys.length > 0) {
      const standbyFleet = new VpsFleet(`${name}-standby`, {
        ...machineArgs, role: `${role}-standby`, count: standbys.length,
        fixedIps: args.fixedIps?.slice(1),
        userData: standbys.map((_, i) => pulumi.all([secrets, primaryHost]).apply(([[superPw, appPw, replPw, key, secret, bucketName, allowed], host]) =>
          bundleToCloudInit(machineName(args.stack, `${role}-standby`, i), postgresNodeBundle({
            ...common, allowedCidrs: [...allowed, host + "/32"], kind: "standby", passwords: { superuser: superPw, app: appPw, replication: replPw },
            syncStandbys: [], slots: [], standbyName: standbyName(i), primaryHost: host,
            s3: { bucket: bucketName, endpoint: `s3.${storageRegion.toLowerCase()}.io.cloud.ovh.net`, region: storageRegion.toLowerCase(), key, secret },
          })))),
      }, { parent: this, protect });
      this.addresses.push(...standbyFleet.addresses);
    }
    this.endpoint = primaryHost;
    this.port = pulumi.output(args.pgbouncer?.port ?? 5432);
    this.registerOutputs({ endpoint: this.endpoint, port: this.port, backupBucket: this.backupBucket });
  }
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
  readonly s3: { readonly bucket: string; readonly endpoint: string; readonly region: string; readonly key: string; readonly secret: string };
  readonly pgbouncer?: { readonly poolSize: number; readonly port: number };
  /** Bastion CIDRs from which the superuser may connect (migrations). Default none. */
  readonly adminCidrs?: readonly string[];
}

const REPLICATION_USER = "replicator";

/** Packages, files and first-boot commands of a PostgreSQL node. Pure. */
export function postgresNodeBundle(s: PostgresNodeSettings): ServiceBundle {
  const sqlLiteral = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const conf = renderPostgresConf({
    listenAddresses: "*", port: 5432, maxConnections: s.maxConnections, sharedBuffers: s.sharedBuffers,
    synchronousStandbys: s.syncStandbys, standbyCount: Math.max(s.slots.length, 1),
    archiveCommand: pgBackRestArchiveCommand(s.stanza),
    primaryConninfo: s.kind === "standby" ? `host=${s.primaryHost} port=5432 user=${REPLICATION_USER}` : undefined,
    primarySlotName: s.standbyName, applicationName: s.standbyName,
  });
  const files = [
    { path: `${s.confDir}/conf.d/probatio.conf`, content: conf, owner: "postgres:postgres" },
    { path: `${s.confDir}/pg_hba.conf`, content: renderPgHba({ allowedCidrs: s.allowedCidrs, replicationUser: REPLICATION_USER, appUser: s.appUser, database: s.database, adminCidrs: s.adminCidrs }), permissions: "0640", owner: "postgres:postgres" },
    { path: "/etc/pgbackrest/pgbackrest.conf", permissions: "0640", owner: "postgres:postgres", content: renderPgBackRestConf({
      stanza: s.stanza, bucket: s.s3.bucket, endpoint: s.s3.endpoint, region: s.s3.region, accessKey: s.s3.key, secretKey: s.s3.secret,
      pgDataPath: s.pgData, retentionDays: s.backup.retentionDays, cron: s.backup.cron,
    }) },
    { path: "/var/lib/postgresql/.pgpass", permissions: "0600", owner: "postgres:postgres", content: `*:5432:replication:${REPLICATION_USER}:${s.passwords.replication}\n` },
  ];
  const packages = [`postgresql-${s.version}`, "pgbackrest"];
  if (s.kind === "primary") {
    const bootstrap = [
      // The standbys do not exist yet: with synchronous_standby_names set, these commits would wait for a sync
      // standby that needs the replication role created here (a deadlock at first boot).
      "SET synchronous_commit = local;",
      `ALTER ROLE postgres PASSWORD ${sqlLiteral(s.passwords.superuser)};`,
      `CREATE ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD ${sqlLiteral(s.passwords.replication)};`,
      `CREATE ROLE ${s.appUser} WITH LOGIN PASSWORD ${sqlLiteral(s.passwords.app)};`,
      `CREATE DATABASE ${s.database} OWNER ${s.appUser};`,
      ...s.slots.map((slot) => `SELECT pg_create_physical_replication_slot(${sqlLiteral(slot)});`),
    ].join("\n") + "\n";
    const bundles: ServiceBundle[] = [{
      packages,
      files: [...files,
        { path: "/etc/probatio/pg-bootstrap.sql", permissions: "0600", owner: "postgres:postgres", content: bootstrap },
        { path: "/etc/cron.d/probatio-pg-backup", content: renderBackupCron({ stanza: s.stanza, cron: s.backup.cron }) },
      ],
      commands: [
        "systemctl restart postgresql",
        "sudo -u postgres psql -v ON_ERROR_STOP=1 -f /etc/probatio/pg-bootstrap.sql && shred -u /etc/probatio/pg-bootstrap.sql",
        `sudo -u postgres pgbackrest --stanza=${s.stanza} stanza-create`,
        `sudo -u postgres pgbackrest --stanza=${s.stanza} --type=full backup`,
      ],
    }];
    if (s.pgbouncer) bundles.push(pgbouncerBundle({ ...s.pgbouncer, database: s.database, appUser: s.appUser, appPassword: s.passwords.app, backendHost: "127.0.0.1", maxConnections: s.maxConnections }));
    return mergeBundles(bundles);
  }
  return {
    packages,
    files,
    commands: [
      "systemctl stop postgresql",
      `rm -rf ${s.pgData}`,
      `sudo -u postgres pg_basebackup -h ${s.primaryHost} -U ${REPLICATION_USER} -D ${s.pgData} -X stream -S ${s.standbyName} -R`,
      "systemctl start postgresql",
    ],
  };
}

export function pgbouncerBundle(s: { poolSize: number; port: number; database: string; appUser: string; appPassword: string; backendHost: string; maxConnections: number }): ServiceBundle {
  return {
    packages: ["pgbouncer"],
    files: [
      { path: "/etc/pgbouncer/pgbouncer.ini", owner: "postgres:postgres", permissions: "0640", content: renderPgBouncerIni({
        listenAddress: "0.0.0.0", listenPort: s.port, databaseName: s.database, backendHost: s.backendHost, backendPort: 5432,
        poolSize: s.poolSize, maxClientConnections: s.maxConnections * 5, authFile: "/etc/pgbouncer/userlist.txt",
      }) },
      { path: "/etc/pgbouncer/userlist.txt", owner: "postgres:postgres", permissions: "0600", content: renderPgBouncerUserlist([{ name: s.appUser, password: s.appPassword }]) },
    ],
    commands: ["systemctl enable --now pgbouncer", "systemctl restart pgbouncer"],
  };
}
