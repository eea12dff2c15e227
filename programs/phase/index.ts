/**
 * The one program behind every phase of both roadmaps: it turns a phase's data into components, one concern per
 * file. Each concern returns what it declared (machines, scrape targets, outputs); nothing is shared by mutation.
 */
import * as pulumi from "@pulumi/pulumi";
import { ServiceBundle } from "../../components/config/bundle";
import { VpsFleet } from "../../components/vpsFleet";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { environmentFor, getPhase, Topology } from "../roadmaps";
import { PhaseSettings } from "../settings";
import { Declared, PhaseContext } from "./context";
import { appEnvironment } from "./appEnvironment";
import { declareEntry, declareOrigin, EdgeFacts, EdgeOutput, entryPoint, originTls, validateEdge } from "./edge";
import { entryTerminatorBundle, entryTerminatorRole } from "./entryTls";
import { declareFleet } from "./fleets";
import { declareHsm } from "./hsm";
import { declareKubernetes, kubernetesClaims } from "./kubernetes";
import { declareLoadBalancer, loadBalancerClaims } from "./loadBalancer";
import { declareMonitoring, monitoringClaims } from "./monitoring";
import { declareNetwork, networkOutput } from "./network";
import * as postgres from "./postgres";
import { declareRedis, redisClaims, redisOutput } from "./redis";
import { declareBackupBucket, declareWorm } from "./storage";
import { generationOpts, NextPhase, nextPhaseName } from "./transition";

export { nextPhaseName } from "./transition";

/** The stack outputs of a phase: what an operator needs next. */
export interface PhaseOutputs {
  readonly roadmap: string;
  readonly phase: number;
  readonly environment: string;
  readonly machines: Record<string, pulumi.Input<string[]>>;
  readonly database?: { endpoint: pulumi.Output<string>; port: pulumi.Output<number>; backupBucket?: pulumi.Output<string> };
  readonly redis?: { endpoints: pulumi.Output<string>[]; masterName: string };
  readonly loadBalancer?: pulumi.Output<string>;
  readonly kubernetes?: { apiEndpoint: pulumi.Output<string>; kubeconfig?: pulumi.Output<string> };
  readonly hsm?: { endpoint: pulumi.Output<string>; keyIds: Record<string, pulumi.Output<string>>; port: number };
  readonly worm?: { bucket: pulumi.Output<string>; retentionYears: number; mode: string };
  readonly network?: { networkId: pulumi.Input<string>; subnets: Readonly<Record<string, string>> };
  readonly backupBucket?: pulumi.Output<string>;
  /** This phase's origin name (the stack manages its DNS): what the public name points at while it is live. */
  readonly origin?: string;
  /** The stack's public name, and the origin it points at (the stack manages its DNS). */
  readonly edge?: EdgeOutput;
}

interface ComposedPhase {
  readonly outputs: PhaseOutputs;
  readonly databaseEgress?: pulumi.Output<string[]>;
  readonly edge: EdgeFacts;
}

/**
 * Builds the stack's phase. During a side-by-side migration (stage "transitional") the stack holds both phases: the
 * source as it is, and the target under a NextPhase component, with data stores named for the next generation so
 * nothing collides. Once the source is decommissioned the target stays where it is, through its aliases.
 */
export function buildPhase(settings: PhaseSettings): PhaseOutputs & { source?: PhaseOutputs; migration?: unknown } {
  validateEdge(settings);
  const generation = settings.generation ?? 1;
  const m = settings.migration;
  if (m && (m.stage === "transitional" || m.stage === "decommissioning")) {
    // Decommissioning drops the source first (while the target keeps its NextPhase parent), so that the source's
    // URNs are gone before the target moves to the root under its aliases.
    // The target first: the source's primary lets the target's database in (from where it connects out) for the data step.
    const next = new NextPhase(nextPhaseName(generation + 1));
    const target = composePhase(settings, m.to, generation + 1, { parent: next });
    const source =
      m.stage === "transitional"
        ? composePhase(settings, m.from, generation, generationOpts(generation), target.databaseEgress)
        : undefined;
    // The public name follows the source until the migration's DNS switch, then the target.
    const live = source && m.dns !== "target" ? { generation, phase: source } : { generation: generation + 1, phase: target };
    const edge = declareEntry(settings, live.generation, live.phase.edge);
    return withoutUndefined({ ...target.outputs, edge, source: source?.outputs, migration: m });
  }
  const phase = composePhase(settings, settings.phase, generation, generationOpts(generation));
  return withoutUndefined({ ...phase.outputs, edge: declareEntry(settings, generation, phase.edge), migration: m });
}

/**
 * The topology with the backend count the autoscaler recorded (stack config `backendCount`), within the phase's
 * rule. A phase without a rule (phase 4 scales its pods and nodes itself) keeps its own count: a stack that
 * autoscaled in phase 3 migrates on without the setting in the way.
 */
export function scaledTopology(topology: Topology, backendCount: number | undefined, where: string): Topology {
  const rule = topology.scaling;
  const role = topology.loadBalancer?.backendRole;
  if (backendCount === undefined || !rule || !role) return topology;
  if (!Number.isInteger(backendCount) || backendCount < rule.min || backendCount > rule.max) {
    throw new ProbatioError(
      `backendCount ${backendCount} is outside ${where}'s bounds (${rule.min}-${rule.max})`,
      undefined,
      ExitCode.usage,
    );
  }
  return { ...topology, fleets: topology.fleets.map((f) => (f.role === role ? { ...f, count: backendCount } : f)) };
}

/**
 * One phase's components, in the order their dependencies need: its stack outputs, and where its database connects
 * out from (what a source phase's primary lets in while a migration replicates into this one).
 */
function composePhase(
  settings: PhaseSettings,
  phaseNo: number,
  generation: number,
  opts: pulumi.ComponentResourceOptions,
  /** The next phase's database egress, while a migration moves this phase's data there. */
  migrationPeers?: pulumi.Output<string[]>,
): ComposedPhase {
  const phase = getPhase(settings.roadmap, phaseNo);
  const env = environmentFor(phase, settings.stack, settings.environment);
  const base = new PhaseContext(
    { ...settings, phase: phaseNo },
    phase,
    env.name,
    scaledTopology(env.topology, phaseNo === settings.phase ? settings.backendCount : undefined, `${phase.roadmap} phase ${phaseNo}`),
    opts,
    generation,
    undefined,
    migrationPeers,
  );
  // Application fleets: every role no component declares itself. The first with a public interface is the SSH gateway
  // of the private machines (known once declared: deferred); a phase without one delivers to them at creation only.
  const claimed = new Set([
    ...monitoringClaims,
    ...postgres.postgresClaims(postgres.postgresPlacement(base)),
    ...redisClaims(base),
    ...loadBalancerClaims(base),
    ...kubernetesClaims(base),
    "pgbouncer",
  ]);
  const appFleets = base.topology.fleets.filter((f) => !claimed.has(f.role));
  const jump = deferred();
  // Classic VPS name their peers by address in their host firewalls: every machine's, known once all are declared.
  const peers = deferred<Record<string, string[]>>();
  const withJump = appFleets.length > 0 ? base.withSshJump(jump.output) : base;
  const ctx = withJump.withPeerAddresses(peers.output);
  const net = declareNetwork(ctx, appFleets[0]?.role);

  // PostgreSQL first where it lives on the application's machine (its bundle goes into that machine's user data).
  const placement = postgres.postgresPlacement(ctx);
  const colocated = postgres.declareColocatedPostgres(ctx, placement);
  const extra = new Map<string, pulumi.Output<ServiceBundle>[]>();
  const compose = postgres.composeBundleFor(ctx, placement);
  if (compose && placement.kind === "compose") extra.set(placement.fleet.role, [compose]);
  if (colocated && placement.kind === "colocated") extra.set(placement.fleet.role, [colocated.colocatedBundle!]);
  // The application's machines trust the stack's database CA where they reach PostgreSQL across the public network.
  const databaseCa = postgres.databaseCaBundle(ctx, placement);
  if (databaseCa) for (const f of appFleets) extra.set(f.role, [...(extra.get(f.role) ?? []), databaseCa]);
  const terminator = entryTerminatorRole(ctx.topology);
  if (terminator) extra.set(terminator, [...(extra.get(terminator) ?? []), pulumi.output(entryTerminatorBundle(ctx))]);

  // The application's environment names the database and cache machines, declared after it: settled below.
  const databaseHost = deferred();
  const redisHost = deferred();
  const environment = appEnvironment(ctx, placement, { database: databaseHost.output, redis: redisHost.output });
  const apps = new Map<string, VpsFleet>();
  const declared: Declared[] = [];
  for (const fleet of appFleets) {
    // The machine that holds the Compose PostgreSQL holds data: protected like a database.
    const holdsData = placement.kind === "compose" && fleet.role === placement.fleet.role;
    const app = declareFleet(ctx, net, fleet, extra.get(fleet.role) ?? [], { environment, protect: holdsData });
    apps.set(fleet.role, app.fleet);
    declared.push(app);
  }

  jump.settle(sshGateway(apps));

  const separate = postgres.declareSeparatePostgres(ctx, net, placement, apps);
  const cluster = colocated ?? separate.cluster;
  databaseHost.settle(cluster?.endpoint ?? "");
  const redis = declareRedis(ctx, net);
  redisHost.settle(redis.redis ? redis.redis.endpoints[0].apply((e) => e.split(":")[0]) : "");
  const lb = declareLoadBalancer(ctx, net, apps);
  // OVH's managed PostgreSQL listens on a port of its own: the pods' NetworkPolicy opens that one.
  const k8s = declareKubernetes(ctx, net, placement.kind === "managed" ? cluster?.port : undefined);
  declared.push(separate, postgres.declarePgBouncer(ctx, net, placement, cluster), redis, lb, k8s);
  const edge: EdgeFacts = { cdn: ctx.topology.cdn, originTls: originTls(ctx.topology, !!ctx.settings.acme) };
  const origin = declareOrigin(ctx, entryPoint(ctx, lb.address ?? k8s.entry, k8s.egress, apps), edge);
  const hsm = declareHsm(ctx);
  const worm = declareWorm(ctx);
  const backupBucket = declareBackupBucket(ctx);
  // Monitoring last: it scrapes every machine declared before it.
  declared.push(
    declareMonitoring(
      ctx,
      net,
      declared.flatMap((d) => d.scrape),
    ),
  );

  peers.settle(peerAddresses(declared));

  const outputs = withoutUndefined({
    roadmap: phase.roadmap,
    phase: phase.phase,
    environment: env.name,
    machines: Object.assign({}, ...declared.map((d) => d.machines)),
    network: networkOutput(ctx, net),
    database: postgres.databaseOutput(cluster),
    redis: redisOutput(redis.redis),
    loadBalancer: lb.address,
    kubernetes: k8s.output,
    hsm,
    worm,
    backupBucket,
    origin,
  });
  return {
    outputs,
    databaseEgress: postgres.databaseEgress(net, placement, cluster, apps, k8s.egress),
    edge,
  };
}

/**
 * The SSH gateway of a phase's private machines: its first application machine with a public interface (a backend in
 * phases 2–3). It reaches the private network already, holds no data, and SSH to it is fenced by the allow-list.
 * Empty when the phase has none (then a private machine's delivery says so).
 */
function sshGateway(apps: ReadonlyMap<string, VpsFleet>): pulumi.Input<string> {
  for (const fleet of apps.values()) if (fleet.publicAddresses.length > 0) return fleet.publicAddresses[0];
  return "";
}

/** A value known later in the program (settled once, before the program ends). */
function deferred<T = string>(): { output: pulumi.Output<T>; settle: (v: pulumi.Input<T>) => void } {
  let resolve!: (v: pulumi.Input<T>) => void;
  // Settled with the Output itself (not its value): an unknown value in a preview stays unknown instead of never coming.
  const promise = new Promise<pulumi.Input<T>>((res) => (resolve = res));
  return { output: pulumi.output(promise) as pulumi.Output<T>, settle: (v) => resolve(v) };
}

/** Every declared machine's address, by role (what Prometheus scrapes: every machine of the phase). */
function peerAddresses(declared: readonly Declared[]): pulumi.Output<Record<string, string[]>> {
  const byRole = declared.flatMap((d) => d.scrape).map((t) => pulumi.all([...t.addresses]).apply((a) => [t.role, a] as const));
  return pulumi.all(byRole).apply((entries) => {
    const out: Record<string, string[]> = {};
    for (const [role, addresses] of entries) out[role] = [...(out[role] ?? []), ...addresses];
    return out;
  });
}

/** Outputs a phase does not have are absent from the stack, not present and empty. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
