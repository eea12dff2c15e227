/**
 * The fences of a booted phase, probed cell by cell: for every source (each machine, the operator's allow-listed
 * address, an address of the internet), every other machine and every port a flow of the phase or a data service
 * uses, whether a TCP connection gets through. The expected table is generated from the phase's flows, the same data
 * the host firewalls are rendered from; the probes are real connections on the test network.
 */
import { ALLOW_LIST, allows, Flow, WORLD } from "../../components/flows";
import { ports } from "../../lib/defaults";
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
  for (const source of sources) {
    const cells = targets.filter((t) => t.name !== source.name).flatMap((target) => portList.map((port) => ({ target, port })));
    const seen = await probeFrom(net, source, cells);
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
