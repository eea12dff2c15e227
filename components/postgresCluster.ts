import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DATABASE, DEFAULT_POSTGRES, DEFAULT_REGION, ports } from "../lib/defaults";
import { bundleToCloudInit, ServiceBundle } from "./config/bundle";
import { withNodeExporter } from "./config/nodeExporter";
import { patroniNodeBundle } from "./config/patroniNode";
import { EtcdMember } from "./config/patroni";
import { databaseServerCert, databaseServerTls } from "./config/databaseTls";
import { postgresNodeBundle, PostgresNodeSettings } from "./config/postgresNode";
import { machineName } from "./labels";
import {
  ColocatedPostgresArgs,
  ManagedPostgresArgs,
  PostgresClusterArgs,
  SelfManagedPostgresArgs,
  validatePostgresClusterArgs,
} from "./postgresClusterArgs";
import { VpsFleet } from "./vpsFleet";

/** PostgreSQL: self-managed (primary, standbys, pgBouncer, WAL + base backups to Object Storage), colocated, or OVH managed. */
export class PostgresCluster extends pulumi.ComponentResource {
  /** Host applications connect to (pgBouncer when present). */
  public readonly endpoint!: pulumi.Output<string>;
  public readonly port!: pulumi.Output<number>;
  /** The Object Storage bucket holding base backups and WAL (self-managed, colocated). */
  public readonly backupBucket?: pulumi.Output<string>;
  /** Addresses of the primary and standbys (self-managed). */
  public readonly addresses: pulumi.Output<string>[] = [];
  /** Services to add to the caller's machine (colocated). */
  public readonly colocatedBundle?: pulumi.Output<ServiceBundle>;
  /** A cluster that fails over by itself (standbys): its nodes and the coordination store's members, for the pgBouncer machine. */
  public readonly failover?: { readonly nodes: readonly EtcdMember[]; readonly etcd: readonly EtcdMember[] };

  constructor(name: string, args: PostgresClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:database:PostgresCluster", name, {}, opts);
    validatePostgresClusterArgs(args);
    const outputs = (() => {
      switch (args.variant) {
        case "managed":
          return this.managed(name, args);
        case "colocated":
        case "self-managed":
          return this.selfManaged(name, args);
        default: {
          const unreachable: never = args;
          return unreachable;
        }
      }
    })();
    Object.assign(this, outputs);
    this.registerOutputs(
      args.variant === "managed"
        ? { endpoint: this.endpoint, port: this.port }
        : { endpoint: this.endpoint, port: this.port, backupBucket: this.backupBucket },
    );
  }

  private managed(name: string, args: ManagedPostgresArgs) {
    const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
    const protect = args.protect ?? true;
    const storageRegion = (args.region ?? DEFAULT_REGION).replace(/[0-9]+$/, "");
    const database = args.database ?? DEFAULT_DATABASE.name;
    const m = args.managed;
    const cluster = new ovh.cloudproject.Database(
      `${name}-managed`,
      {
        serviceName: args.cloudProject,
        description: `${args.stack} PostgreSQL (probatio phase ${args.phase})`,
        engine: "postgresql",
        version: String(args.version ?? DEFAULT_POSTGRES.managedVersion),
        plan: m.plan,
        flavor: m.flavor,
        nodes: Array.from({ length: m.nodes }, () => ({ region: storageRegion, networkId: m.networkId, subnetId: m.subnetId })),
        ipRestrictions: args.allowedCidrs.map((ip) => ({ ip, description: "backend subnet" })),
        backupRegions: m.backupRegions ? [...m.backupRegions] : [storageRegion],
        backupTime: "03:00:00",
        deletionProtection: true,
      },
      { parent: this, protect },
    );
    const user = new ovh.cloudprojectdatabase.PostgresSqlUser(
      `${name}-app-user`,
      { serviceName: args.cloudProject, clusterId: cluster.id, name: args.appUser ?? DEFAULT_DATABASE.user },
      { parent: this },
    );
    const db = new ovh.cloudprojectdatabase.DatabaseInstance(
      `${name}-app-db`,
      { serviceName: args.cloudProject, clusterId: cluster.id, engine: "postgresql", name: database },
      { parent: this, protect },
    );
    if (args.pgbouncer) {
      new ovh.cloudprojectdatabase.PostgresSqlConnectionPool(
        `${name}-pool`,
        {
          serviceName: args.cloudProject,
          clusterId: cluster.id,
          databaseId: db.id,
          userId: user.id,
          name: `${database}-pool`,
          mode: "transaction",
          size: args.pgbouncer.poolSize,
        },
        { parent: this },
      );
    }
    return {
      endpoint: cluster.endpoints.apply((e) => e?.[0]?.domain ?? ""),
      port: cluster.endpoints.apply((e) => e?.[0]?.port ?? ports.postgres),
    };
  }

  private selfManaged(name: string, args: SelfManagedPostgresArgs | ColocatedPostgresArgs) {
    const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
    const protect = args.protect ?? true;
    const region = args.region ?? DEFAULT_REGION;
    const storageRegion = region.replace(/[0-9]+$/, "");
    // A bucket and a dedicated Object Storage user for pgBackRest.
    const bucket = new ovh.cloudproject.Storage(
      `${name}-backups`,
      {
        serviceName: args.cloudProject,
        regionName: storageRegion,
        name: args.bucketName ?? `${args.stack}-pg-backups`,
        versioning: { status: "enabled" },
        encryption: { sseAlgorithm: "AES256" },
      },
      { parent: this, protect },
    );
    const backupUser = new ovh.cloudproject.User(
      `${name}-backup-user`,
      { serviceName: args.cloudProject, description: `${args.stack} pgBackRest`, roleNames: ["objectstore_operator"] },
      { parent: this },
    );
    const s3 = new ovh.cloudproject.S3Credential(
      `${name}-backup-s3`,
      { serviceName: args.cloudProject, userId: backupUser.id },
      { parent: this },
    );

    const version = args.version ?? DEFAULT_POSTGRES.version;
    const standbys = args.variant === "self-managed" ? (args.standbys ?? []) : [];
    const common = {
      version,
      stanza: args.stack,
      pgData: `/var/lib/postgresql/${version}/main`,
      confDir: `/etc/postgresql/${version}/main`,
      database: args.database ?? DEFAULT_DATABASE.name,
      appUser: args.appUser ?? DEFAULT_DATABASE.user,
      maxConnections: args.maxConnections ?? DEFAULT_POSTGRES.maxConnections,
      sharedBuffers: args.sharedBuffers ?? DEFAULT_POSTGRES.sharedBuffers,
      backup: args.backup,
    };
    const secrets = pulumi.all([
      args.passwords.superuser,
      args.passwords.app,
      args.passwords.replication,
      s3.accessKeyId,
      s3.secretAccessKey,
      bucket.name,
      pulumi.all([...args.allowedCidrs]),
      pulumi.output(args.migrationPeers ?? []),
    ]);
    const nodeSettings = ([superPw, appPw, replPw, key, secret, bucketName, allowed, peers]: pulumi.Unwrap<typeof secrets>) => ({
      ...common,
      allowedCidrs: allowed,
      migrationPeers: peers,
      passwords: { superuser: superPw, app: appPw, replication: replPw },
      s3: {
        bucket: bucketName,
        endpoint: `s3.${storageRegion.toLowerCase()}.io.cloud.ovh.net`,
        region: storageRegion.toLowerCase(),
        key,
        secret,
      },
    });
    const pgPort = pulumi.output(args.pgbouncer?.port ?? ports.postgres);
    const role = args.role ?? "database";
    if (args.variant === "self-managed" && standbys.length > 0) {
      const ha = this.failoverNodes(name, args, role, standbys, (userData) => secrets.apply((values) => userData(nodeSettings(values))));
      const failover = { nodes: ha.nodes, etcd: ha.etcd };
      return { backupBucket: bucket.name, addresses: ha.addresses, endpoint: ha.addresses[0], port: pgPort, failover };
    }
    // The primary's certificate names its own address, known once its machine is declared (below): settled then.
    let settleAddress: (address: pulumi.Input<string>) => void = () => undefined;
    const ownAddress = new Promise<pulumi.Input<string>>((resolve) => (settleAddress = resolve));
    const tls =
      args.tlsSecret && args.variant === "self-managed"
        ? pulumi
            .all([args.tlsSecret, pulumi.output(ownAddress)])
            .apply(([secret, address]) => databaseServerCert(secret, args.stack, machineName(args.stack, role, 0), [address]))
        : pulumi.output(undefined);
    const primaryBundle = pulumi.all([secrets, tls]).apply(([values, serverTls]) =>
      withNodeExporter(
        postgresNodeBundle({
          ...nodeSettings(values),
          tls: serverTls,
          pgbouncer: args.pgbouncer,
        }),
        args.nodeExporter,
      ),
    );
    if (args.variant === "colocated") {
      return { backupBucket: bucket.name, colocatedBundle: primaryBundle, endpoint: pulumi.output("127.0.0.1"), port: pgPort };
    }

    const { fixedIps, ...machines } = args.machines;
    const machineArgs = { phase: args.phase, stack: args.stack, region, ...machines };
    const primary = new VpsFleet(
      `${name}-primary`,
      {
        ...machineArgs,
        role,
        count: 1,
        fixedIps: fixedIps?.slice(0, 1),
        userData: [primaryBundle.apply((b) => bundleToCloudInit(machineName(args.stack, role, 0), b))],
      },
      { parent: this, protect },
    );
    const primaryHost = primary.addresses[0];
    settleAddress(primaryHost);
    return { backupBucket: bucket.name, addresses: [primaryHost], endpoint: primaryHost, port: pgPort };
  }

  /**
   * A cluster that fails over by itself: Patroni on every node, etcd on the first two and the witness. The machines
   * keep the names and resources of a primary and its standbys (which one leads changes at run time, not here).
   */
  private failoverNodes(
    name: string,
    args: SelfManagedPostgresArgs,
    role: string,
    standbys: readonly string[],
    render: (userData: (s: PostgresNodeSettings) => string) => pulumi.Output<string>,
  ) {
    const protect = args.protect ?? true;
    const { fixedIps, ...machines } = args.machines;
    const machineArgs = { phase: args.phase, stack: args.stack, region: args.region ?? DEFAULT_REGION, ...machines };
    const nodes: EtcdMember[] = [
      { name: machineName(args.stack, role, 0), address: fixedIps![0] },
      ...standbys.map((_, i) => ({ name: machineName(args.stack, `${role}-standby`, i), address: fixedIps![i + 1] })),
    ];
    const etcd = [nodes[0], nodes[1], args.witness!];
    // Each node's certificate names its own address (the standbys and pgBouncer reach it there).
    const tlsOf = (node: EtcdMember): pulumi.Output<{ cert: string; key: string; ca: string } | undefined> =>
      args.tlsSecret
        ? pulumi.output(args.tlsSecret).apply((secret) => databaseServerTls(secret, args.stack, node.name, [node.address]))
        : pulumi.output(undefined);
    const userData = (node: EtcdMember) =>
      tlsOf(node).apply((tls) =>
        render((s) =>
          bundleToCloudInit(
            node.name,
            withNodeExporter(
              patroniNodeBundle({
                ...s,
                self: node,
                nodes,
                etcd,
                bootstrapper: nodes[0],
                synchronousNodeCount: standbys.filter((m) => m === "sync").length,
                tls,
              }),
              args.nodeExporter,
            ),
          ),
        ),
      );
    const primary = new VpsFleet(
      `${name}-primary`,
      { ...machineArgs, role, count: 1, fixedIps: fixedIps!.slice(0, 1), userData: [userData(nodes[0])] },
      { parent: this, protect },
    );
    const standbyFleet = new VpsFleet(
      `${name}-standby`,
      {
        ...machineArgs,
        role: `${role}-standby`,
        count: standbys.length,
        fixedIps: fixedIps!.slice(1, 1 + standbys.length),
        userData: nodes.slice(1).map(userData),
      },
      { parent: this, protect },
    );
    return { addresses: [...primary.addresses, ...standbyFleet.addresses], nodes, etcd };
  }
}

export * from "./postgresClusterArgs";
