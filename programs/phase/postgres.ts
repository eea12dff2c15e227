import * as pulumi from "@pulumi/pulumi";
import { traefikAcme } from "./entryTls";
import { ServiceBundle } from "../../components/config/bundle";
import { composeBundle } from "../../components/config/compose";
import { pgbouncerLeaderBundle } from "../../components/config/patroniNode";
import { pgbouncerBundle } from "../../components/config/postgresNode";
import { PostgresCluster } from "../../components/postgresCluster";
import { VpsFleet } from "../../components/vpsFleet";
import { DEFAULT_DATABASE, DEFAULT_PGBOUNCER, ports } from "../../lib/defaults";
import { FleetSpec, PostgresSpec } from "../roadmaps";
import { deriveSecret } from "../settings";
import { DATABASE_TLS_PURPOSE, SUPERUSER_PURPOSE } from "../../lib/secrets";
import { DATABASE_CA_FILE, databaseCaCert, databaseServerTls } from "../../components/config/databaseTls";
import { Declared, nothingDeclared, PhaseContext } from "./context";
import { declareFleet } from "./fleets";
import { machineOptions, NetworkParts } from "./network";

/**
 * Where PostgreSQL runs: on machines of its own ("dedicated"), beside the application on the same machine
 * ("colocated", phase 0's all-in-one), in OVH's managed service, or as a Docker Compose service (KoproGo 1-2).
 */
export type PostgresPlacement =
  | { readonly kind: "dedicated"; readonly spec: PostgresSpec; readonly fleet: FleetSpec }
  | { readonly kind: "colocated"; readonly spec: PostgresSpec; readonly fleet: FleetSpec }
  | { readonly kind: "managed"; readonly spec: PostgresSpec }
  | { readonly kind: "compose"; readonly spec: PostgresSpec; readonly fleet: FleetSpec }
  | { readonly kind: "none" };

export function postgresPlacement(ctx: PhaseContext): PostgresPlacement {
  const spec = ctx.topology.postgres;
  if (!spec) return { kind: "none" };
  switch (spec.mode) {
    case "managed":
      return { kind: "managed", spec };
    case "compose":
      return { kind: "compose", spec, fleet: ctx.requireFleet(spec.primaryRole ?? "", "postgres.primaryRole") };
    case "self-managed": {
      const fleet = ctx.requireFleet(spec.primaryRole ?? "", "postgres.primaryRole");
      return { kind: fleet.services.some((x) => x !== "postgresql") ? "colocated" : "dedicated", spec, fleet };
    }
    default: {
      const unreachable: never = spec.mode;
      return ctx.fail(`unknown postgres mode '${unreachable}'`);
    }
  }
}

/** The role whose fleet PostgreSQL declares itself (no generic fleet for it). */
export function postgresClaims(placement: PostgresPlacement): string[] {
  return placement.kind === "dedicated" ? [placement.fleet.role] : [];
}

/** The Docker Compose stack (Traefik, the backend, PostgreSQL) KoproGo 1-2 run on their application machine. */
export function composeBundleFor(ctx: PhaseContext, placement: PostgresPlacement): pulumi.Output<ServiceBundle> | undefined {
  if (placement.kind !== "compose") return undefined;
  const { settings, topology } = ctx;
  const pg = placement.spec;
  const image = settings.backendImage ?? ctx.fail("backendImage is not set");
  const domain = settings.domain ?? ctx.fail("domain is not set");
  return pulumi.all([settings.dbPassword, ctx.migrationPeers ?? []]).apply(([password, migrationPeers]) =>
    composeBundle({
      domain,
      acmeEmail: traefikAcme(settings)!.email,
      backendImage: image,
      backendPort: ports.composeBackend,
      backendMemoryLimit: topology.compose?.backendMemoryLimit,
      traefikMetrics: topology.compose?.traefikMetrics ?? false,
      postgres: { version: pg.version, maxConnections: pg.maxConnections, sharedBuffers: pg.sharedBuffers, password },
      migrationPeers,
    }),
  );
}

export interface DeclaredPostgres extends Declared {
  readonly cluster?: PostgresCluster;
}

function passwords(ctx: PhaseContext) {
  const app = ctx.settings.dbPassword;
  return {
    app,
    superuser: deriveSecret(app, SUPERUSER_PURPOSE),
    replication: deriveSecret(app, "postgres-replication"),
  };
}

function commonArgs(ctx: PhaseContext, pg: PostgresSpec, allowedCidrs: readonly pulumi.Input<string>[], pgbouncer: boolean) {
  return {
    ...ctx.common,
    version: pg.version,
    maxConnections: pg.maxConnections,
    sharedBuffers: pg.sharedBuffers,
    pgbouncer: pgbouncer ? pg.pgbouncer : undefined,
    backup: { cron: pg.backupCron, retentionDays: pg.backupRetentionDays },
    allowedCidrs,
    migrationPeers: ctx.migrationPeers,
    passwords: passwords(ctx),
    cloudProject: ctx.settings.cloudProject,
    bucketName: ctx.generation > 1 ? `${ctx.settings.stack}-pg-backups-g${ctx.generation}` : undefined,
    nodeExporter: !!ctx.topology.monitoring,
  };
}

/**
 * The secret the stack's database CA derives from, wherever probatio holds both ends of the application's connection
 * to PostgreSQL on machines of its own: across the public network (classic VPS phases: the primary, or the pgBouncer
 * beside it) and on the private network (phases 2-3: the application to pgBouncer, pgBouncer to the leader, the
 * standbys to the leader). Not on loopback (phase 0's all-in-ones), nor for phase 4's managed service (OVH's own
 * certificate) or a database in Docker Compose or Kubernetes.
 */
export function databaseTlsSecret(ctx: PhaseContext, placement: PostgresPlacement): pulumi.Output<string> | undefined {
  return placement.kind === "dedicated" ? deriveSecret(ctx.settings.dbPassword, DATABASE_TLS_PURPOSE) : undefined;
}

/** The stack's database CA certificate, for the application's machines, where {@link databaseTlsSecret} applies. */
export function databaseCaBundle(ctx: PhaseContext, placement: PostgresPlacement): pulumi.Output<ServiceBundle> | undefined {
  const secret = databaseTlsSecret(ctx, placement);
  if (!secret) return undefined;
  return secret.apply(async (s) => ({
    packages: [],
    files: [{ path: DATABASE_CA_FILE, content: await databaseCaCert(s, ctx.settings.stack) }],
    commands: [],
  }));
}

/** PostgreSQL on the application's own machine (phase 0): the cluster renders a bundle for that machine. */
export function declareColocatedPostgres(ctx: PhaseContext, placement: PostgresPlacement): PostgresCluster | undefined {
  if (placement.kind !== "colocated") return undefined;
  const pg = placement.spec;
  return new PostgresCluster(
    "postgres",
    { ...commonArgs(ctx, pg, ["127.0.0.1/32"], !ctx.fleet("pgbouncer")), variant: "colocated", role: placement.fleet.role },
    ctx.rootOpts,
  );
}

/**
 * PostgreSQL on machines of its own or OVH's managed service, open to the application: the private subnets that are
 * not a data tier, or (classic VPS without a private network) the application machines themselves.
 */
export function declareSeparatePostgres(
  ctx: PhaseContext,
  net: NetworkParts,
  placement: PostgresPlacement,
  apps: ReadonlyMap<string, VpsFleet>,
): DeclaredPostgres {
  if (placement.kind !== "dedicated" && placement.kind !== "managed") return nothingDeclared;
  const pg = placement.spec;
  const subnets = ctx.topology.network?.subnets;
  const allowed: pulumi.Input<string>[] = subnets
    ? Object.entries(subnets)
        .filter(([k]) => k !== "public" && k !== "database" && k !== "hsm")
        .map(([, v]) => v)
    : [...apps.entries()]
        .filter(([role]) => ctx.fleet(role)!.services.some((x) => x === "backend" || x === "api"))
        // Classic VPS: each application machine's public IPv4 (TLS only: pg_hba's hostssl for a public address).
        .flatMap(([, f]) => f.addresses.map((a) => a.apply((ip) => `${ip}/32`)));
  const common = commonArgs(ctx, pg, allowed, !ctx.fleet("pgbouncer"));
  if (placement.kind === "managed") {
    const cluster = new PostgresCluster(
      "postgres",
      {
        ...common,
        variant: "managed",
        managed: {
          plan: pg.managedPlan!,
          flavor: pg.managedFlavor!,
          nodes: pg.managedNodes!,
          networkId: net.network?.networkId,
          subnetId: net.network?.subnetIds.database,
        },
      },
      ctx.rootOpts,
    );
    return { cluster, machines: {}, scrape: [] };
  }
  const fleet = placement.fleet;
  if (fleet.count !== 1 + pg.standbys.length) {
    ctx.fail(`the '${fleet.role}' fleet has ${fleet.count} machines but PostgreSQL needs ${1 + pg.standbys.length} (primary + standbys)`);
  }
  const cluster = new PostgresCluster(
    "postgres",
    {
      ...common,
      tlsSecret: databaseTlsSecret(ctx, placement),
      variant: "self-managed",
      standbys: pg.standbys,
      witness: pg.standbys.length > 0 ? failoverWitness(ctx) : undefined,
      role: fleet.role,
      machines: { ...machineOptions(ctx, net, fleet), fixedIps: ctx.fixedIps(fleet.role, fleet.count) },
    },
    ctx.rootOpts,
  );
  const names = [...ctx.machineNames(fleet.role, 1), ...ctx.machineNames(`${fleet.role}-standby`, fleet.count - 1)];
  return { cluster, machines: { [fleet.role]: names }, scrape: [{ role: fleet.role, addresses: cluster.addresses }] };
}

/**
 * The pgBouncer machine, on a fixed private address: in a cluster with standbys it holds the coordination store's
 * third member (the database machines are two in phase 2) and follows the leader for the application; its
 * certificate names that address, which the application connects to.
 */
function failoverWitness(ctx: PhaseContext): { name: string; address: string } {
  const fleet = ctx.fleet("pgbouncer");
  const address = fleet ? ctx.fixedIps(fleet.role, 1)?.[0] : undefined;
  if (!fleet || !address) {
    return ctx.fail(
      "PostgreSQL with standbys, or a pgBouncer on a machine of its own, needs a 'pgbouncer' machine on the private network (its failover's third etcd member; the address its certificate names)",
    );
  }
  return { name: ctx.machineNames(fleet.role, 1)[0], address };
}

/** pgBouncer on a machine of its own (phases 2-3), in front of the primary, or of whichever node leads. */
export function declarePgBouncer(ctx: PhaseContext, net: NetworkParts, placement: PostgresPlacement, cluster?: PostgresCluster): Declared {
  const fleet = ctx.fleet("pgbouncer");
  if (!fleet || placement.kind === "none" || !cluster) return nothingDeclared;
  const pg = placement.spec;
  const pooler = (password: string) => ({
    poolSize: pg.pgbouncer?.poolSize ?? DEFAULT_PGBOUNCER.poolSize,
    port: pg.pgbouncer?.port ?? DEFAULT_PGBOUNCER.port,
    database: DEFAULT_DATABASE.name,
    appUser: DEFAULT_DATABASE.user,
    appPassword: password,
    maxConnections: pg.maxConnections,
  });
  const failover = placement.kind === "dedicated" && pg.standbys.length > 0 ? cluster.failover : undefined;
  const tlsSecret = databaseTlsSecret(ctx, placement);
  // TLS both ways: the application verifies pgBouncer's certificate (its fixed address), pgBouncer the leader's.
  const tls = (self: { name: string; address: string }) =>
    tlsSecret
      ? tlsSecret.apply(async (secret) => {
          const { ca, ...tls } = await databaseServerTls(secret, ctx.settings.stack, self.name, [self.address]);
          return { tls, serverCa: ca };
        })
      : pulumi.output({});
  const bundle = failover
    ? pulumi.all([ctx.settings.dbPassword, tls(failoverWitness(ctx))]).apply(([password, serverTls]) =>
        pgbouncerLeaderBundle({
          self: failoverWitness(ctx),
          ...failover,
          scope: ctx.settings.stack,
          pgbouncer: { ...pooler(password), ...serverTls },
        }),
      )
    : pulumi
        .all([ctx.settings.dbPassword, cluster.endpoint, tls(failoverWitness(ctx))])
        .apply(([password, host, serverTls]) => pgbouncerBundle({ ...pooler(password), ...serverTls, backendHost: host }));
  return declareFleet(ctx, net, fleet, [bundle]);
}

/**
 * Where the phase's database connects out from, as another database sees it (the next phase's primary, when a
 * migration replicates into it): the NAT gateway's public addresses on a private network, else the database machine's
 * own address; for OVH's managed service, the database subnet its nodes are attached to; for a database in
 * Kubernetes (KoproGo 3-4), where the pods leave the cluster from.
 */
export function databaseEgress(
  net: NetworkParts,
  placement: PostgresPlacement,
  cluster: PostgresCluster | undefined,
  apps: ReadonlyMap<string, VpsFleet>,
  /** The phase's Kubernetes pods' egress: their database runs in the cluster (KoproGo 3-4's Helm PostgreSQL). */
  kubernetesEgress?: pulumi.Output<string[]>,
): pulumi.Output<string[]> | undefined {
  switch (placement.kind) {
    case "none":
      return kubernetesEgress;
    case "managed": {
      // OVH's managed nodes take their addresses in the database subnet they are attached to.
      const subnet = net.network?.subnetCidrs.database;
      return subnet ? pulumi.output([subnet]) : undefined;
    }
    case "dedicated":
    case "colocated":
    case "compose": {
      if (net.network) return net.network.egressIps;
      const host = placement.kind === "dedicated" ? cluster?.addresses[0] : apps.get(placement.fleet.role)?.addresses[0];
      return host ? pulumi.output(host).apply((h) => [h]) : undefined;
    }
    default: {
      const unreachable: never = placement;
      return unreachable;
    }
  }
}

/** The stack output describing the database. */
export function databaseOutput(cluster?: PostgresCluster) {
  return cluster ? { endpoint: cluster.endpoint, port: cluster.port, backupBucket: cluster.backupBucket } : undefined;
}
