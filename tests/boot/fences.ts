/**
 * The fences of a booted phase, probed cell by cell: for every source (each machine, the operator's allow-listed
 * address, an address of the internet), every other machine and every port a flow of the phase or a data service
 * uses, whether a TCP connection gets through. The expected table is generated from the phase's flows, the same data
 * the host firewalls are rendered from; the probes are real connections on the test network.
 */
import { ALLOW_LIST, allows, Flow, WORLD } from "../../components/flows";
import { MACHINE_CONFIG_TYPE } from "../../components/delivery/configuration";
import { ports } from "../../lib/defaults";
import { phaseFlows } from "../../programs/phase/flows";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";
import { stateResources } from "../engine/harness";
import type { BootedPhase } from "./bootedPhase";
import { BootNetwork } from "./harness";

export type Reach = "reached" | "fenced";

/** Where a probe starts: a machine of the phase (by role), or an address of the test network's namespace. */
export type FenceSource =
  | { readonly kind: "machine"; readonly name: string; readonly role: string }
  /** The namespace, from `address`: the internet (WORLD), or the operator's allow-listed address. */
  | { readonly kind: "namespace"; readonly name: string; readonly address: string; readonly allowListed: boolean };

export interface FenceTarget {
  readonly name: string;
  readonly role: string;
  readonly address: string;
}

/** The data ports the issue names and the application's, besides every port a flow opens. */
const DATA_PORTS = [ports.postgres, ports.pgbouncer, ports.redis, ports.sentinel, ports.nodeExporter, ports.prometheus, ports.backend];

/** How many sources probe at once. */
const PROBING_SOURCES = 4;

/** Every TCP port of the table: the flows' and the data ports. */
export function probedPorts(flows: readonly Flow[]): number[] {
  const fromFlows = flows.filter((f) => f.protocol === "tcp" && f.to !== WORLD).map((f) => f.port!);
  return [...new Set([...fromFlows, ...DATA_PORTS])].sort((a, b) => a - b);
}

/** One cell's expected answer, from the flows: the internet's flows are open to every source. */
export function expectedReach(flows: readonly Flow[], source: FenceSource, target: FenceTarget, port: number): Reach {
  const open =
    allows(flows, WORLD, target.role, "tcp", port) ||
    (source.kind === "namespace" && source.allowListed && allows(flows, ALLOW_LIST, target.role, "tcp", port)) ||
    (source.kind === "machine" && allows(flows, source.role, target.role, "tcp", port));
  return open ? "reached" : "fenced";
}

/**
 * Probes every (target, port) from one source at once. curl's connect time tells the cases apart: a connection
 * made (whatever the daemon then says) or refused (nothing listens: the fence let it through) is "reached"; a
 * connection attempt that times out with no answer (the fence dropped it) is "fenced".
 */
async function probeFrom(net: BootNetwork, source: FenceSource, cells: readonly { target: FenceTarget; port: number }[]) {
  const bind = source.kind === "namespace" ? `--interface ${source.address}` : "";
  const lines = cells.map(
    ({ target, port }) =>
      `( t=$(curl -s -o /dev/null ${bind} --connect-timeout 3 -m 5 -w '%{time_connect}' http://${target.address}:${port}/ </dev/null); echo "${target.name} ${port} $? $t" ) &`,
  );
  const script = [...lines, "wait"].join("\n");
  const r = source.kind === "machine" ? await net.exec(source.name, script) : await net.probe(script);
  const out = new Map<string, Reach>();
  for (const line of r.stdout.trim().split("\n")) {
    const [name, port, code, connect] = line.split(" ");
    // curl exit 7: refused (an answer); a connect time above zero: connected.
    out.set(`${name}:${port}`, code === "7" || Number(connect) > 0 ? "reached" : "fenced");
  }
  return out;
}

/** A probed table: every mismatch with the flows' table as a line, the counts, and what each source reached. */
export interface FenceTable {
  readonly mismatches: string[];
  readonly reached: number;
  readonly fenced: number;
  readonly cells: number;
  readonly reachedFrom: Record<string, string[]>;
}

/** Probes the table (every source to every other target, on every port of the flows and the data ports). */
export async function probeFences(
  net: BootNetwork,
  flows: readonly Flow[],
  sources: readonly FenceSource[],
  targets: readonly FenceTarget[],
): Promise<FenceTable> {
  const portList = probedPorts(flows);
  const mismatches: string[] = [];
  const reachedFrom: Record<string, string[]> = {};
  let reached = 0;
  let fenced = 0;
  const cellsFrom = (source: FenceSource) =>
    targets.filter((t) => t.name !== source.name).flatMap((target) => portList.map((port) => ({ target, port })));
  // A few sources at a time: a dropped cell waits out curl's 3 s, so one source after another took minutes (phase 3:
  // 16 sources, 3 min); all at once would be thousands of connections from 2 cores.
  const seenFrom = new Map<string, Map<string, Reach>>();
  for (let i = 0; i < sources.length; i += PROBING_SOURCES) {
    const batch = sources.slice(i, i + PROBING_SOURCES);
    const seen = await Promise.all(batch.map((source) => probeFrom(net, source, cellsFrom(source))));
    batch.forEach((source, j) => seenFrom.set(source.name, seen[j]));
  }
  for (const source of sources) {
    const cells = cellsFrom(source);
    const seen = seenFrom.get(source.name)!;
    for (const { target, port } of cells) {
      const expected = expectedReach(flows, source, target, port);
      const actual = seen.get(`${target.name}:${port}`);
      if (actual === "reached") {
        reached++;
        (reachedFrom[source.name] ??= []).push(`${target.name}:${port}`);
      }
      if (actual === "fenced") fenced++;
      if (actual !== expected)
        mismatches.push(`${source.name} -> ${target.name}:${port}: expected ${expected}, probed ${actual ?? "nothing"}`);
    }
  }
  return { mismatches, reached, fenced, cells: reached + fenced, reachedFrom };
}

/** What the phase's entry answered from the internet, once the firewalls were delivered. */
export interface FencedPhase {
  readonly table: FenceTable;
  /** The internet's address on the test network (not in the allow-list). */
  readonly outside: string;
  /** GET /probe at the entry (HTTPS, `-k`: the first-boot certificate), from the internet. */
  readonly probe: { readonly code: number; readonly stderr: string; readonly stdout: string };
}

/**
 * A classic VPS phase's host firewalls (nftables, rendered by probatio), from no allow-list to the operator's: SSH
 * answers the internet until `sshAllowList` is set, then `up` delivers each machine's firewall in place, and the
 * table is probed from every machine, the operator and the internet. `env` is the operator's (its current key).
 */
export async function probeHostFirewalls(
  b: BootedPhase,
  roadmap: RoadmapId,
  phase: number,
  env: NodeJS.ProcessEnv = {},
): Promise<FencedPhase> {
  const { net, plan, operator } = b;
  const taken = new Set(plan.machines.map((m) => m.address));
  const outside = Array.from({ length: 50 }, (_, i) => `192.0.2.${200 + i}`).find((a) => !taken.has(a))!;
  expect((await net.probe(`ip addr add ${outside}/24 dev br0`)).code).toBe(0);
  const database = plan.machines.find((m) => m.role === "database")!.name;
  const ssh = (from: string) =>
    net.probe(`curl -s -o /dev/null --interface ${from} --connect-timeout 3 -m 5 -w '%{time_connect}' http://${database}:22/`);
  // No allow-list yet: SSH answers from anywhere (keys only).
  expect(Number((await ssh(outside)).stdout)).toBeGreaterThan(0);

  // The operator's address becomes the allow-list: each machine's firewall is delivered in place and reloaded.
  expect((await operator!.run(["config", "set", "--stack", "prod", "sshAllowList", `${plan.gateway}/32`], env)).code).toBe(0);
  const up = await operator!.run(["up", "--phase", String(phase), "--stack", "prod", "--yes", "--json"], env);
  expect({ code: up.code, stderr: up.code === 0 ? "" : up.stderr.slice(-3000) }).toEqual({ code: 0, stderr: "" });
  expect(JSON.parse(up.stdout).changes.update).toBe(plan.machines.length);
  const configs = stateResources(operator!.sandbox, "prod").filter((r) => r.type === MACHINE_CONFIG_TYPE);
  for (const c of configs) expect((c.outputs as { lastDelivery: string }).lastDelivery).toContain("/etc/nftables.conf");

  const flows = phaseFlows(environmentFor(getPhase(roadmap, phase), "prod").topology, {});
  const table = await probeFences(
    net,
    flows,
    [
      ...plan.machines.map((m) => ({ kind: "machine" as const, name: m.name, role: m.role })),
      { kind: "namespace", name: "operator", address: plan.gateway, allowListed: true },
      { kind: "namespace", name: "internet", address: outside, allowListed: false },
    ],
    plan.machines,
  );
  process.stderr.write(
    `[boot ${roadmap} ${phase}] fences: ${table.cells} cells probed, ${table.reached} reached, ${table.fenced} fenced\n`,
  );
  // The phase still answers end to end from the internet: HTTPS at its entry (the backend's machine).
  const entry = plan.machines.find((m) => m.role === "backend")!.name;
  const probe = await net.probe(`curl -fsS -k -m 20 --retry 5 --retry-delay 1 --interface ${outside} https://${entry}/probe`);
  return { table, outside, probe };
}
