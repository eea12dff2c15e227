import * as pulumi from "@pulumi/pulumi";
import { bundleToCloudInit, mergeBundles, ServiceBundle } from "../components/config/bundle";
import { appServices } from "../components/config/services";
import { machineName } from "../components/labels";
import { PostgresCluster } from "../components/postgresCluster";
import { VpsFleet } from "../components/vpsFleet";
import { ProbatioError, ExitCode } from "../lib/errors";
import { environmentFor, FleetSpec, getPhase, Topology } from "./roadmaps";
import { deriveSecret, PhaseSettings } from "./settings";

/** Services rendered by a component rather than by the generic fleet. */
const componentServices = new Set(["postgresql", "pgbouncer"]);

/** The stack outputs of a phase: what an operator needs next. */
export interface PhaseOutputs {
  readonly roadmap: string;
  readonly phase: number;
  readonly environment: string;
  readonly machines: Record<string, pulumi.Input<string[]>>;
  readonly database?: { endpoint: pulumi.Output<string>; port: pulumi.Output<number>; backupBucket?: pulumi.Output<string> };
}

/** Builds the phase's components from its roadmap data. The one program behind every phase of both roadmaps. */
export function buildPhase(settings: PhaseSettings): PhaseOutputs {
  const phase = getPhase(settings.roadmap, settings.phase);
  const env = environmentFor(phase, settings.stack, settings.environment);
  const t: Topology = env.topology;
  const machines: Record<string, pulumi.Input<string[]>> = {};
  const colocated: Record<string, pulumi.Output<ServiceBundle>[]> = {};
  const common = { phase: settings.phase, stack: settings.stack, region: settings.region };
  const fleetByRole = new Map(t.fleets.map((f) => [f.role, f]));

  let database: PhaseOutputs["database"];
  if (t.postgres) {
    const pg = t.postgres;
    const primaryFleet = pg.primaryRole ? fleetByRole.get(pg.primaryRole) : undefined;
    if (pg.mode === "self-managed" && !primaryFleet) {
      throw new ProbatioError(`${phase.roadmap} phase ${phase.phase}: postgres.primaryRole '${pg.primaryRole}' has no fleet`, undefined, ExitCode.failure);
    }
    const isColocated = !!primaryFleet && primaryFleet.services.some((s) => s !== "postgresql");
    if (primaryFleet && !isColocated && primaryFleet.count !== 1 + pg.standbys.length) {
      throw new ProbatioError(`${phase.roadmap} phase ${phase.phase}: the '${primaryFleet.role}' fleet has ${primaryFleet.count} machines but PostgreSQL needs ${1 + pg.standbys.length} (primary + standbys)`);
    }
    const dedicatedPgBouncer = fleetByRole.has("pgbouncer");
    const cluster = new PostgresCluster("postgres", {
      ...common,
      variant: pg.mode,
      version: pg.version,
      standbys: pg.standbys,
      maxConnections: pg.maxConnections,
      sharedBuffers: pg.sharedBuffers,
      pgbouncer: dedicatedPgBouncer ? undefined : pg.pgbouncer,
      backup: { cron: pg.backupCron, retentionDays: pg.backupRetentionDays },
      allowedCidrs: privateCidrs(t),
      passwords: {
        app: settings.dbPassword,
        superuser: deriveSecret(settings.dbPassword, "postgres-superuser"),
        replication: deriveSecret(settings.dbPassword, "postgres-replication"),
      },
      cloudProject: settings.cloudProject,
      role: primaryFleet?.role,
      colocated: isColocated,
      machines: primaryFleet && !isColocated ? { variant: primaryFleet.variant, offer: primaryFleet.offer, sshPublicKey: settings.sshPublicKey } : undefined,
      managed: pg.mode === "managed" ? { plan: pg.managedPlan!, flavor: pg.managedFlavor!, nodes: pg.managedNodes! } : undefined,
    });
    if (cluster.colocatedBundle) (colocated[primaryFleet!.role] ??= []).push(cluster.colocatedBundle);
    database = { endpoint: cluster.endpoint, port: cluster.port, backupBucket: cluster.backupBucket };
    if (primaryFleet && !isColocated) {
      machines[primaryFleet.role] = Array.from({ length: primaryFleet.count }, (_, i) =>
        i === 0 ? machineName(settings.stack, primaryFleet.role, 0) : machineName(settings.stack, `${primaryFleet.role}-standby`, i - 1));
    }
  }

  const claimed = new Set<string>();
  if (t.postgres?.mode === "self-managed" && t.postgres.primaryRole && !colocated[t.postgres.primaryRole]) claimed.add(t.postgres.primaryRole);

  for (const f of t.fleets) {
    if (claimed.has(f.role)) continue;
    const fleet = new VpsFleet(f.role, {
      ...common, role: f.role, count: f.count, variant: f.variant, offer: f.offer, sshPublicKey: settings.sshPublicKey,
      userData: Array.from({ length: f.count }, (_, i) => fleetUserData(settings, t, f, i, colocated[f.role] ?? [])),
    });
    machines[f.role] = fleet.names;
  }

  return { roadmap: phase.roadmap, phase: phase.phase, environment: env.name, machines, database };
}

/** Private subnets the phase's machines live in (database access is limited to these). */
export function privateCidrs(t: Topology): string[] {
  if (t.network) return Object.entries(t.network.subnets).filter(([k]) => k !== "public").map(([, v]) => v);
  return ["10.0.0.0/16"];
}

function fleetUserData(settings: PhaseSettings, t: Topology, f: FleetSpec, index: number, extra: pulumi.Output<ServiceBundle>[]): pulumi.Output<string> {
  const own: ServiceBundle[] = f.services
    .filter((s) => !componentServices.has(s))
    .map((s) => {
      const make = appServices[s];
      if (!make) return { packages: [], files: [], commands: [] };
      return make({ role: f.role, stack: settings.stack, pm2Instances: t.pm2?.instances });
    });
  const hostname = machineName(settings.stack, f.role, index);
  const keys = settings.sshPublicKey ? [settings.sshPublicKey] : undefined;
  return pulumi.all(extra).apply((bundles) => bundleToCloudInit(hostname, mergeBundles([...own, ...bundles]), keys));
}
