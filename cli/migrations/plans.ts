/**
 * Migration plans: for each consecutive pair of phases of both roadmaps, an ordered list of named steps.
 * Steps that only add resources are plain `up`s; only `decommission` deletes, and never a protected resource.
 */
import { ExitCode, ProbatioError } from "../../lib/errors";
import { gateWording, getPhase, getRoadmap, RoadmapId } from "../../programs/roadmaps";

export type StepKind = "preflight" | "backup" | "resize" | "provision" | "data" | "verify" | "traffic" | "cutover" | "dns" | "decommission";

export interface MigrationStep {
  readonly name: string;
  readonly kind: StepKind;
  readonly description: string;
  /** Whether the step changes infrastructure through the engine. */
  readonly engine: boolean;
  /** Steps after the cutover cannot be undone by --rollback. */
  readonly undoable: boolean;
}

export interface MigrationPlan {
  readonly roadmap: RoadmapId;
  readonly from: number;
  readonly to: number;
  /** "in-place": the target only adds to the source; "side-by-side": the target is built beside it and the data moves. */
  readonly strategy: "in-place" | "side-by-side";
  /** The seed's own estimate of the move, for comparison. */
  readonly seedSays: string;
  /**
   * How traffic reaches the target: "haproxy-stages" (the source's HAProxy moves the reads in stages with health
   * gates, then everything at the switch), "dns" (the operator points DNS at the target after the switch), or
   * "none" (in place: the same entry point).
   */
  readonly traffic: "haproxy-stages" | "dns" | "none";
  /** A classic VPS resized in place by OVH (the operator's action in OVH's manager): which machine, to which plan. */
  readonly resize?: { readonly machine: string; readonly toOffer: string; readonly toSize: string };
  /** The other strategies this move offers (`--strategy`), and why the default is the default. */
  readonly alternatives?: readonly string[];
  readonly why?: string;
  readonly steps: readonly MigrationStep[];
}

const preflight = (gates: readonly string[]): MigrationStep => ({
  name: "preflight",
  kind: "preflight",
  engine: false,
  undoable: true,
  description: `check the source stack is healthy (last update succeeded, nothing pending, recorded phase), the target's settings are present, and confirm the seed's gates: ${gates.join("; ") || "none listed"}`,
});
const backup: MigrationStep = {
  name: "state-backup",
  kind: "backup",
  engine: false,
  undoable: true,
  description: "export the stack's state to a timestamped file under ~/.probatio/backups (restorable with `pulumi stack import`)",
};

function sideBySide(what: string, staged: boolean): MigrationStep[] {
  const steps: MigrationStep[] = [
    {
      name: "provision-target",
      kind: "provision",
      engine: true,
      undoable: true,
      description: `provision the target beside the source (${what}); the stack holds both, nothing is deleted`,
    },
    {
      name: "replicate-data",
      kind: "data",
      engine: false,
      undoable: true,
      description:
        "PostgreSQL logical replication from the source to the target while the source keeps serving (the target's application roles are read-only until the switch); resumable",
    },
    {
      name: "verify-data",
      kind: "verify",
      engine: false,
      undoable: true,
      description:
        "check every table is copied and streaming with the lag under 1 MB, and compare row counts; the exact row-count and checksum comparison of every table runs inside the cutover's write freeze, before the switch",
    },
  ];
  if (staged) {
    steps.push({
      name: "shift-reads",
      kind: "traffic",
      engine: false,
      undoable: true,
      description:
        "the source's HAProxy sends the reads (GET, HEAD) to the target in stages (--stages, default 5,25,50,100 %), each watched for --observe seconds: the target must stay UP on every HAProxy and its 5xx rate at or under --max-error-rate; a failed gate puts every request back on the source",
    });
  }
  steps.push(
    {
      name: "cutover",
      kind: "cutover",
      engine: false,
      undoable: false,
      description: staged
        ? "the target must be UP on every HAProxy; short write freeze on the source (read-only, sessions ended), final catch-up, row counts and checksums of every table compared, sequences copied, the target takes the writes; then the source's HAProxy sends every request to the target"
        : "short write freeze on the source (read-only, sessions ended), final catch-up, row counts and checksums of every table compared, sequences copied, then the target takes the writes",
    },
    {
      name: "switch-dns",
      kind: "dns",
      engine: true,
      undoable: false,
      description:
        "with `dnsZone` set: the public name's record moves to the target's origin (one CNAME's content; the records' TTL was lowered to 60 s at the provisioning, and the switch first waits out a longer old TTL), then the step waits the lowered TTL (nothing behind Cloudflare's proxy); without it, point DNS at the target's entry point yourself (printed)",
    },
    {
      name: "decommission-source",
      kind: "decommission",
      engine: true,
      undoable: false,
      description:
        "refused while the public name still leads to the source (its record's origin behind Cloudflare's proxy; else what `domain` resolves to, asked of `dnsResolver` when set); then remove the source's machines; protected data stores are left in the cloud (dropped from the stack) for you to delete when you no longer need them",
    },
  );
  return steps;
}

function inPlace(what: string): MigrationStep[] {
  return [
    {
      name: "provision-target",
      kind: "provision",
      engine: true,
      undoable: true,
      description: `add ${what} to the running stack (an up that only creates and updates)`,
    },
    {
      name: "verify-target",
      kind: "verify",
      engine: false,
      undoable: true,
      description: "the stack's outputs show the target phase and every role's machines",
    },
  ];
}

/** The resize of a classic VPS: OVH's upgrade of the running machine, done by the operator (no API credentials here). */
function resizeStep(machine: string, toOffer: string, toSize: string): MigrationStep {
  return {
    name: "resize-vps",
    kind: "resize",
    engine: false,
    undoable: true,
    description: `resize ${machine} to ${toOffer} (${toSize}) in OVH's manager (VPS > Upgrade; a reboot, the disk and address kept), then confirm with --resume --resized; OVH cannot downgrade a VPS: a rollback keeps the bigger VPS and puts the previous configuration back`,
  };
}

interface Definition {
  readonly strategy: MigrationPlan["strategy"] | "resize";
  readonly seedSays: string;
  /** What the target adds (shown in the provisioning step). */
  readonly what: string;
}

const definitions: Record<string, Definition> = {
  "probatio:0-1": {
    strategy: "in-place",
    seedSays: "2-3 weeks of work, same architecture",
    what: "the Redis cache and monitoring VPS, pgBouncer on the database, PM2 cluster mode",
  },
  "probatio:1-2": {
    strategy: "side-by-side",
    seedSays: "4-6 weeks of work",
    what: "the private network, HAProxy, 3 backends, PostgreSQL primary + streaming replica on Public Cloud instances",
  },
  "probatio:2-3": {
    strategy: "in-place",
    seedSays: "6-8 weeks of work",
    what: "the second HAProxy with the VRRP VIP, a sync standby, two Redis nodes with Sentinel, Alertmanager; the monitoring instance resized from d2-4 to d2-8 in place (OpenStack's resize: a reboot of a minute or two, its disk and Prometheus' data kept, no rebuild)",
  },
  "probatio:3-4": {
    strategy: "side-by-side",
    seedSays: "14 weeks; progressive DNS switch (canary), < 1 hour of downtime",
    what: "the VPC, managed Kubernetes, managed PostgreSQL, HSM, WORM storage",
  },
  // The seed's option 1 is the default: the same machine, address and disk (no data moves, DNS stays), a reboot
  // of downtime; a new VPS beside it (option 2) moves the data by logical replication instead of a dump.
  "koprogo:1-2": {
    strategy: "resize",
    seedSays: "option 1: resize the VPS (OVH Manager: upgrade); option 2: pg_dump/restore to a new VPS",
    what: "PostgreSQL's shared_buffers=1GB, the backend's 500M limit and Traefik's metrics, delivered to the resized VPS",
  },
  "koprogo:1-2:side-by-side": {
    strategy: "side-by-side",
    seedSays: "option 2: a new VPS with a dump of the database",
    what: "the bigger VPS with the tuned PostgreSQL",
  },
  "koprogo:2-3": {
    strategy: "side-by-side",
    seedSays: "pg_dump/restore, switch DNS, 30 minutes to 2 hours of downtime",
    what: "the K3s cluster with PostgreSQL HA",
  },
  "koprogo:3-4": {
    strategy: "side-by-side",
    seedSays: "progressive, 0 downtime if well executed",
    what: "the K3s HA cluster, load balancer and backups",
  },
};

/** Whether every environment of the phase is fronted by probatio's own HAProxy (whose runtime API moves traffic). */
function haproxyFronted(roadmap: RoadmapId, phase: number): boolean {
  const envs = Object.values(getPhase(roadmap, phase).environments);
  return envs.length > 0 && envs.every((t) => t.loadBalancer?.kind === "haproxy");
}

/** Parses "A-to-B" and returns the plan (its default strategy, or `strategy`), refusing illegal requests with a message that says why. */
export function migrationPlan(roadmap: string, spec: string, strategy?: string): MigrationPlan {
  const r = getRoadmap(roadmap);
  const m = /^(\d+)-to-(\d+)$/.exec(spec);
  if (!m) throw new ProbatioError(`'${spec}' is not a migration: write it FROM-to-TO, e.g. 0-to-1`, undefined, ExitCode.usage);
  const from = Number(m[1]);
  const to = Number(m[2]);
  getPhase(r.id, from);
  getPhase(r.id, to);
  if (to < from) {
    throw new ProbatioError(
      `${spec} goes backwards: probatio migrates forward only`,
      `to undo a migration in progress use \`probatio migrate ${to}-to-${from} --rollback\`; a completed one is undone by restoring its state backup`,
      ExitCode.refused,
    );
  }
  if (to !== from + 1) {
    throw new ProbatioError(
      `${spec} skips phases: migrations move one phase at a time`,
      `start with \`probatio migrate ${from}-to-${from + 1}\``,
      ExitCode.refused,
    );
  }
  const key = `${r.id}:${from}-${to}`;
  const base = definitions[key];
  if (!base) throw new ProbatioError(`no migration plan for ${r.id} ${spec}`, undefined, ExitCode.usage);
  const alternatives = Object.keys(definitions)
    .filter((k) => k.startsWith(`${key}:`))
    .map((k) => k.slice(key.length + 1));
  const d = strategy === undefined || strategy === base.strategy ? base : definitions[`${key}:${strategy}`];
  if (!d) {
    throw new ProbatioError(
      `${r.id} ${spec} has no '${strategy}' strategy`,
      `its strategies: ${[base.strategy, ...alternatives].join(", ")}`,
      ExitCode.usage,
    );
  }
  const gates = gateWording(getPhase(r.id, from).gatesToNext);
  const inPlaceMove = d.strategy !== "side-by-side";
  const traffic = inPlaceMove ? "none" : haproxyFronted(r.id, from) ? "haproxy-stages" : "dns";
  const resize = d.strategy === "resize" ? resizeOf(r.id, from, to) : undefined;
  const body = inPlaceMove ? inPlace(d.what) : sideBySide(d.what, traffic === "haproxy-stages");
  return {
    roadmap: r.id,
    from,
    to,
    strategy: inPlaceMove ? "in-place" : "side-by-side",
    seedSays: d.seedSays,
    traffic,
    resize,
    alternatives: d === base ? alternatives : [base.strategy === "resize" ? "resize" : base.strategy],
    steps: [preflight(gates), backup, ...(resize ? [resizeStep(resize.machine, resize.toOffer, resize.toSize)] : []), ...body],
  };
}

/** The one classic VPS a resize move grows: the source's machine of the role both phases run, and the target's plan. */
function resizeOf(roadmap: RoadmapId, from: number, to: number): NonNullable<MigrationPlan["resize"]> {
  const a = Object.values(getPhase(roadmap, from).environments)[0].fleets;
  const b = Object.values(getPhase(roadmap, to).environments)[0].fleets;
  const grown = b.find((f) => f.variant === "ovh-vps" && a.some((x) => x.role === f.role && x.offer !== f.offer));
  if (!grown || grown.count !== 1)
    throw new ProbatioError(`${roadmap} ${from}-to-${to}: no single VPS to resize`, undefined, ExitCode.failure);
  const s = grown.size;
  return { machine: `${grown.role}-1`, toOffer: grown.offer, toSize: `${s.vcpu} vCPU, ${s.ramGb} GB, ${s.diskGb} GB` };
}

export function allMigrationPlans(): MigrationPlan[] {
  return Object.keys(definitions).map((k) => {
    const [roadmap, pair, strategy] = k.split(":");
    const [from, to] = pair.split("-");
    return migrationPlan(roadmap, `${from}-to-${to}`, strategy);
  });
}
