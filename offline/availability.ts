/**
 * Availability computed from a phase's topology: the tiers a request goes through are in series; the nodes of a tier
 * with automatic failover are in parallel (the tier is down when every node is, or while it fails over). Each figure
 * comes from programs/reliability with its source. Tiers of one node, or of several without failover, are the single
 * points of failure that remain.
 */
import { FleetSpec, Phase, Topology } from "../programs/roadmaps";
import { AVAILABILITY, FAILOVER_SECONDS, MEAN_TIME_TO_REPAIR_HOURS } from "../programs/reliability";

export interface Tier {
  readonly name: string;
  readonly nodes: number;
  /** Nodes that must be up for the tier to serve (a quorum: 2 of 3 etcd members). */
  readonly needed: number;
  /** Availability of one node, percent, and where the figure comes from. */
  readonly nodePercent: number;
  readonly source: string;
  /** How the tier fails over (undefined: it does not). */
  readonly failover?: keyof typeof FAILOVER_SECONDS;
  /** A managed service: redundant inside, so not a single point of failure of ours even as one tier. */
  readonly managed?: boolean;
}

export interface TierResult extends Tier {
  readonly percent: number;
  readonly spof: boolean;
}

export interface Availability {
  readonly tiers: readonly TierResult[];
  /** Product of the tiers, percent. */
  readonly percent: number;
  readonly downtimeHoursPerYear: number;
  readonly targetPercent: number;
  readonly meetsTarget: boolean;
  readonly singlePointsOfFailure: readonly string[];
  readonly formula: string;
}

const HOURS_PER_YEAR = 8766;

/** P(at least `k` of `n` nodes up), each up with probability `a`. */
export function kOfN(a: number, k: number, n: number): number {
  let p = 0;
  const choose = (n: number, r: number) => {
    let c = 1;
    for (let i = 1; i <= r; i++) c = (c * (n - r + i)) / i;
    return c;
  };
  for (let i = k; i <= n; i++) p += choose(n, i) * a ** i * (1 - a) ** (n - i);
  return p;
}

/** One tier's availability: k of n nodes up, less the time its failovers take. */
export function tierAvailability(t: Tier): number {
  const a = t.nodePercent / 100;
  let up = kOfN(a, t.needed, t.nodes);
  if (t.failover && t.nodes > t.needed) {
    // Failures of the node in charge a year (its downtime over the repair time), each costing one failover.
    const failuresPerYear = ((1 - a) * HOURS_PER_YEAR) / MEAN_TIME_TO_REPAIR_HOURS.value;
    up -= (failuresPerYear * FAILOVER_SECONDS[t.failover].seconds) / (HOURS_PER_YEAR * 3600);
  }
  return up;
}

const node = (f: FleetSpec) => AVAILABILITY[f.variant];

/** The machines that serve the application's requests (phase 0 runs backend and api apart: both are needed). */
export const appFleets = (t: Topology): FleetSpec[] =>
  t.fleets.filter((f) => f.services.some((s) => ["backend", "api", "docker-compose"].includes(s)));

/** The tiers a request to the phase goes through, in order. */
export function requestPath(t: Topology): Tier[] {
  const fleet = (role: string) => t.fleets.find((f) => f.role === role);
  const tiers: Tier[] = [];
  const machines = (name: string, f: FleetSpec, needed: number, failover?: Tier["failover"]): Tier => ({
    name,
    nodes: f.count,
    needed,
    nodePercent: node(f).percent,
    source: node(f).source,
    failover: f.count > needed ? failover : undefined,
  });
  // A managed service: one tier to us, redundant inside (its SLA says how available).
  const service = (name: string, figure: keyof typeof AVAILABILITY, nodes = 1, failover?: Tier["failover"]): Tier => ({
    name,
    nodes,
    needed: 1,
    nodePercent: AVAILABILITY[figure].percent,
    source: AVAILABILITY[figure].source,
    failover,
    managed: true,
  });
  const lb = t.loadBalancer;
  if (lb?.kind === "managed") tiers.push(service("managed load balancer", "managed-lb"));
  if (lb?.kind === "haproxy") tiers.push(machines(`HAProxy (${lb.role})`, fleet(lb.role)!, 1, "vrrp"));
  if (t.k8s?.kind === "ovh-mks") {
    const min = t.k8s.autoscale?.minNodes ?? 3;
    tiers.push(service("Kubernetes nodes (MKS)", "ovh-mks-node", min, "k3s"));
  } else if (t.k8s?.kind === "k3s") {
    const servers = fleet("k3s-server")!;
    tiers.push(machines("K3s servers (API, etcd)", servers, servers.count >= 3 ? Math.floor(servers.count / 2) + 1 : servers.count, "k3s"));
    tiers.push(machines("K3s agents (pods)", fleet("k3s-agent")!, 1, "k3s"));
  } else {
    // Application machines: every role that serves requests (phase 0 runs backend and api apart: both needed).
    for (const f of appFleets(t)) tiers.push(machines(`application (${f.role})`, f, 1, "haproxy"));
  }
  const redis = t.redis && !t.redis.inCluster ? fleet(t.redis.role) : undefined;
  if (redis) tiers.push(machines(`Redis (${redis.role})`, redis, 1, t.redis!.sentinel ? "sentinel" : undefined));
  const pg = t.postgres;
  if (pg?.mode === "managed") {
    tiers.push(service("PostgreSQL (managed, 3 nodes)", "managed-postgresql-enterprise"));
  } else if (pg?.mode === "self-managed") {
    const pooler = fleet("pgbouncer");
    if (pooler) tiers.push(machines("pgBouncer (and etcd's third member)", pooler, 1));
    const db = fleet(pg.primaryRole!)!;
    // Patroni promotes a standby while etcd has a quorum (2 of its 3 members: two database machines and pgBouncer's).
    if (!appFleets(t).includes(db))
      tiers.push(
        machines(
          `PostgreSQL (${db.role}${pg.standbys.length > 0 ? ", Patroni" : ""})`,
          db,
          1,
          pg.standbys.length > 0 ? "patroni" : undefined,
        ),
      );
  }
  if (t.hsm) tiers.push(service("HSM (OVHcloud KMS)", "okms"));
  if (t.worm) tiers.push(service("WORM archive (Object Storage)", "object-storage"));
  return tiers;
}

/** The phase's computed availability beside the seed's target, with the single points of failure that remain. */
export function availabilityOf(phase: Phase, environment: string): Availability {
  const tiers = requestPath(phase.environments[environment]).map((t) => ({
    ...t,
    percent: tierAvailability(t) * 100,
    spof: t.nodes === t.needed && !t.managed,
  }));
  const a = tiers.reduce((p, t) => p * (t.percent / 100), 1);
  return {
    tiers,
    percent: a * 100,
    downtimeHoursPerYear: (1 - a) * HOURS_PER_YEAR,
    targetPercent: phase.targets.availability,
    meetsTarget: a * 100 >= phase.targets.availability,
    singlePointsOfFailure: tiers.filter((t) => t.spof).map((t) => t.name),
    formula:
      "A = product over the tiers of A(tier); A(tier) = P(at least 'needed' of its n nodes up) - (failures a year x failover time) / year; " +
      `failures a year = (1 - A(node)) x 8766 h / ${MEAN_TIME_TO_REPAIR_HOURS.value} h repair`,
  };
}
