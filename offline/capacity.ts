/**
 * Capacity computed from a phase's topology and the roadmap's one measured figure (programs/roadmaps: `capacity`),
 * with the formula shown, beside the seed's targets. It scales the seed's own measurement by the machines (or vCPUs,
 * or pods) a phase runs; it is not a load test of the phase.
 */
import { appFleets } from "./availability";
import { Phase, Range, Roadmap, Topology } from "../programs/roadmaps";

export interface Capacity {
  /** Units of application capacity (machines, vCPUs or pods), at the floor and at the ceiling of autoscaling. */
  readonly units: Range;
  readonly unit: string;
  readonly requestsPerSecond: Range;
  readonly users: Range;
  readonly usersUnit: string;
  readonly formula: string;
  readonly source: string;
  /** Where the computed capacity falls short of the seed's target (or exceeds it by more than 2x), said plainly. */
  readonly versusSeed: readonly string[];
}

const round = (x: number) => Math.round(x);
const fmt = (r: Range) => (r.max === undefined || r.max === r.min ? `${r.min}` : `${r.min}-${r.max}`);

function units(t: Topology, per: Roadmap["capacity"]["per"]): { units: Range; unit: string; pm2: boolean } {
  if (t.k8s?.kind === "ovh-mks") {
    return { units: { min: t.k8s.hpa?.minPods ?? 3, max: t.k8s.hpa?.maxPods ?? 3 }, unit: "pods (one Node.js process each)", pm2: false };
  }
  const app = t.k8s?.kind === "k3s" ? t.fleets.filter((f) => f.role === "k3s-agent") : appFleets(t);
  if (per === "vCPU") {
    const n = app.reduce((a, f) => a + f.count * f.size.vcpu, 0);
    return { units: { min: n, max: n }, unit: "vCPUs of the application machines", pm2: false };
  }
  const n = app.reduce((a, f) => a + f.count, 0);
  const max = t.scaling ? n - app.filter((f) => f.role === "backend").reduce((a, f) => a + f.count, 0) + t.scaling.max : n;
  return { units: { min: n, max }, unit: "application machines", pm2: t.pm2 !== undefined };
}

export function capacityOf(roadmap: Roadmap, phase: Phase, environment: string): Capacity {
  const basis = roadmap.capacity;
  const u = units(phase.environments[environment], basis.per);
  const factor = u.pm2 ? (basis.pm2Factor ?? 1) : 1;
  const rps = {
    min: round(u.units.min * basis.requestsPerSecond.min * factor),
    max: round(u.units.max! * basis.requestsPerSecond.max! * factor),
  };
  const users = { min: round(rps.min * basis.usersPerRequestPerSecond.min), max: round(rps.max * basis.usersPerRequestPerSecond.max!) };
  const t = phase.targets;
  const versus: string[] = [];
  const compare = (what: string, computed: Range, target?: Range) => {
    if (!target) return;
    if (computed.max! < target.min) versus.push(`${what}: computed ${fmt(computed)} is below the seed's ${fmt(target)}`);
    else if (target.max !== undefined && computed.min > 2 * target.max)
      versus.push(`${what}: computed ${fmt(computed)} is over twice the seed's ${fmt(target)}`);
  };
  compare("req/s", rps, t.requestsPerSecond);
  compare(t.usersUnit, users, t.users);
  return {
    units: u.units,
    unit: u.unit,
    requestsPerSecond: rps,
    users,
    usersUnit: t.usersUnit,
    formula:
      `req/s = ${fmt(u.units)} ${u.unit} x ${fmt(basis.requestsPerSecond)} req/s each` +
      (factor !== 1 ? ` x ${factor} (PM2 cluster mode)` : "") +
      `; ${t.usersUnit} = req/s x ${fmt(basis.usersPerRequestPerSecond)}`,
    source: basis.source,
    versusSeed: versus,
  };
}
