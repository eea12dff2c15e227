/**
 * Moving traffic from the source phase to the target through the source's HAProxy runtime API, in stages with
 * health gates between them. The rendered HAProxy configuration (components/config/haproxy.ts) carries a disabled
 * server slot `next` in its two backends: `app_reads` (GET and HEAD) and `app` (everything else). Before the
 * database switch only reads move (the target's database is a read-only replica until then); the switch sends
 * everything. A failed gate puts every read back on the source before it reports.
 */
import { lookup } from "dns/promises";
import { isIP, Socket } from "net";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { HAPROXY_BACKENDS, SERVER_WEIGHT } from "../../components/config/haproxy";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ShiftOptions {
  /** Runtime API of every HAProxy of the source (a VRRP pair has two: both are kept alike). */
  readonly lbs: readonly Endpoint[];
  /** The target's entry point the source's HAProxy forwards to. */
  readonly target: Endpoint;
  /** Shares of the reads sent to the target, in percent, ascending, the last one 100. */
  readonly stages: readonly number[];
  /** How long each stage is watched before the next. */
  readonly observeMs: number;
  /** A stage fails when more than this fraction of the target's responses are 5xx. */
  readonly maxErrorRate: number;
  /** How long the target may take to pass HAProxy's health checks once attached. */
  readonly healthTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface StageResult {
  readonly percent: number;
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number;
}

export function parseEndpoint(text: string, what: string): Endpoint {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new ProbatioError(`${what} '${text}' is not HOST:PORT`, undefined, ExitCode.usage);
  }
  return { host: m[1], port: Number(m[2]) };
}

/** Parses "5,25,50,100": ascending shares in percent ending at 100. */
export function parseStages(text: string): number[] {
  const stages = text
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "")
    .map(Number);
  if (
    stages.length === 0 ||
    stages.some((x) => !Number.isInteger(x) || x < 1 || x > 100) ||
    stages.some((x, i) => i > 0 && x <= stages[i - 1]) ||
    stages[stages.length - 1] !== 100
  ) {
    throw new ProbatioError(
      `--stages '${text}' must be ascending whole percentages between 1 and 100 that end at 100, e.g. 5,25,50,100`,
      undefined,
      ExitCode.usage,
    );
  }
  return stages;
}

/** One runtime API command; HAProxy answers and closes the connection. */
export function runtimeCommand(ep: Endpoint, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let out = "";
    const fail = (err: Error) => {
      socket.destroy();
      reject(
        new ProbatioError(
          `HAProxy's runtime API at ${ep.host}:${ep.port} did not answer '${command.split(" ").slice(0, 3).join(" ")}': ${err.message}`,
          `open the tunnel to it (e.g. ssh -N -L ${ep.port}:127.0.0.1:9999 <lb node>) and run again`,
          ExitCode.failure,
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail(new Error("timed out")));
    socket.on("error", fail);
    socket.on("data", (d) => (out += d.toString()));
    socket.on("end", () => resolve(out.trim()));
    socket.connect(ep.port, ep.host, () => socket.end(`${command}\n`));
  });
}

async function command(ep: Endpoint, cmd: string): Promise<string> {
  const out = await runtimeCommand(ep, cmd);
  if (/no such|unknown|require|invalid|not found|cannot|failed|unexpected|permission denied/i.test(out)) {
    throw new ProbatioError(
      `HAProxy at ${ep.host}:${ep.port} refused '${cmd}': ${out}`,
      "the source's HAProxy configuration is not the one probatio renders (no migration slot); run `probatio up` for the source phase first",
      ExitCode.failure,
    );
  }
  return out;
}

export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  readonly status: string;
  readonly weight: number;
  /** Requests sent to the server, and those that failed there (5xx, connection or response errors, redispatched). */
  readonly requests: number;
  readonly errors: number;
}

/** `show stat` for the servers of our backends. */
export async function serverStats(ep: Endpoint): Promise<ServerStat[]> {
  const csv = await runtimeCommand(ep, "show stat");
  const [header, ...rows] = csv.split("\n").filter((l) => l.trim() !== "");
  const cols = header.replace(/^# /, "").split(",");
  const at = (name: string) => cols.indexOf(name);
  const num = (r: string[], name: string) => Number(r[at(name)] || 0);
  return rows
    .map((l) => l.split(","))
    .filter((r) => r[at("svname")] !== "FRONTEND" && r[at("svname")] !== "BACKEND")
    .map((r) => ({
      backend: r[at("pxname")],
      server: r[at("svname")],
      status: r[at("status")],
      weight: num(r, "weight"),
      requests: num(r, "stot"),
      // HAProxy retries a failed request on another server (retry-on, redispatch): the client gets its answer, the
      // failure shows only in the server's redispatch counter, not in its 5xx count. Both count against the target.
      errors: num(r, "hrsp_5xx") + num(r, "wredis") + num(r, "econ") + num(r, "eresp"),
    }));
}

/**
 * Weights that give the slot `percent` of the requests against `sources` servers of equal weight: the slot's
 * weight t and every source's weight s, both within HAProxy's 0-256, with t / (t + n*s) as close as can be.
 */
export function weightsFor(percent: number, sources: number): { source: number; slot: number } {
  if (percent <= 0) return { source: SERVER_WEIGHT, slot: 0 };
  if (percent >= 100 || sources === 0) return { source: 0, slot: SERVER_WEIGHT };
  let best = { source: SERVER_WEIGHT, slot: 1, error: Infinity };
  for (let slot = 1; slot <= 256; slot++) {
    for (let source = 1; source <= 256; source++) {
      const error = Math.abs(slot / (slot + sources * source) - percent / 100);
      if (error < best.error - 1e-12) best = { source, slot, error };
    }
  }
  return { source: best.source, slot: best.slot };
}

/** Sends `percent` of a backend's requests to the slot on one HAProxy. */
export async function setShare(ep: Endpoint, backend: string, percent: number): Promise<void> {
  const servers = (await serverStats(ep)).filter((s) => s.backend === backend);
  const sources = servers.filter((s) => s.server !== HAPROXY_BACKENDS.slot);
  if (!servers.some((s) => s.server === HAPROXY_BACKENDS.slot)) {
    throw new ProbatioError(
      `HAProxy at ${ep.host}:${ep.port} has no '${HAPROXY_BACKENDS.slot}' server in backend '${backend}'`,
      "the source's HAProxy configuration predates the migration slot; run `probatio up` for the source phase first",
      ExitCode.failure,
    );
  }
  const w = weightsFor(percent, sources.length);
  // The slot first when it grows, the sources first when they grow: the total never falls to zero.
  const slot = () => command(ep, `set weight ${backend}/${HAPROXY_BACKENDS.slot} ${w.slot}`);
  const rest = () => Promise.all(sources.map((s) => command(ep, `set weight ${backend}/${s.server} ${w.source}`)));
  if (w.slot > 0) {
    await slot();
    await rest();
  } else {
    await rest();
    await slot();
  }
}

async function resolve(target: Endpoint): Promise<string> {
  if (isIP(target.host)) return target.host;
  try {
    return (await lookup(target.host, { family: 4 })).address;
  } catch (err) {
    throw new ProbatioError(
      `cannot resolve the target's entry point ${target.host}: ${(err as Error).message}`,
      undefined,
      ExitCode.failure,
    );
  }
}

const backends = [HAPROXY_BACKENDS.reads, HAPROXY_BACKENDS.all];

function slotOf(stats: ServerStat[], backend: string): ServerStat | undefined {
  return stats.find((s) => s.backend === backend && s.server === HAPROXY_BACKENDS.slot);
}

/** Points every HAProxy's slot at the target (weight 0) and waits until each one's health checks pass. */
export async function attachTarget(o: ShiftOptions): Promise<void> {
  const ip = await resolve(o.target);
  for (const lb of o.lbs) {
    for (const b of backends) {
      await command(lb, `set weight ${b}/${HAPROXY_BACKENDS.slot} 0`);
      await command(lb, `set server ${b}/${HAPROXY_BACKENDS.slot} addr ${ip} port ${o.target.port}`);
      await command(lb, `set server ${b}/${HAPROXY_BACKENDS.slot} state ready`);
    }
  }
  try {
    await waitHealthy(o, o.healthTimeoutMs ?? 60_000);
  } catch (err) {
    await detachTarget(o.lbs);
    throw err;
  }
}

/** The slots not UP, on every HAProxy and in both backends. */
async function slotsNotUp(lbs: readonly Endpoint[]): Promise<{ lb: Endpoint; b: string; s?: ServerStat }[]> {
  const states = await Promise.all(lbs.map(async (lb) => ({ lb, stats: await serverStats(lb) })));
  return states.flatMap(({ lb, stats }) => backends.map((b) => ({ lb, b, s: slotOf(stats, b) })).filter((x) => x.s?.status !== "UP"));
}

async function waitHealthy(o: ShiftOptions, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const down = await slotsNotUp(o.lbs);
    if (down.length === 0) return;
    if (Date.now() - t0 > timeoutMs) {
      const d = down[0];
      throw new ProbatioError(
        `the target ${o.target.host}:${o.target.port} does not pass the health checks of HAProxy ${d.lb.host}:${d.lb.port} (${d.b}: ${d.s?.status ?? "no slot"})`,
        "check that the target serves the health path over the network from the source's load balancers, then --resume; no traffic was moved",
        ExitCode.failure,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every share of the reads and writes back on the source, and the slot out of the rotation. Idempotent. */
export async function detachTarget(lbs: readonly Endpoint[]): Promise<void> {
  for (const lb of lbs) {
    for (const b of backends) {
      await setShare(lb, b, 0);
      await command(lb, `set server ${b}/${HAPROXY_BACKENDS.slot} state maint`);
    }
  }
}

/**
 * The reads move to the target stage by stage; each stage is watched for `observeMs`: the target must stay UP on
 * every HAProxy and its 5xx rate stay at or under `maxErrorRate`. A failed stage puts every read back on the
 * source and throws.
 */
export async function shiftReads(o: ShiftOptions): Promise<StageResult[]> {
  await attachTarget(o);
  const results: StageResult[] = [];
  for (const percent of o.stages) {
    const before = await Promise.all(o.lbs.map(async (lb) => slotOf(await serverStats(lb), HAPROXY_BACKENDS.reads)!));
    for (const lb of o.lbs) await setShare(lb, HAPROXY_BACKENDS.reads, percent);
    const t0 = Date.now();
    let requests = 0,
      errors = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, Math.min(1000, o.observeMs)));
      const now = await Promise.all(o.lbs.map(async (lb) => slotOf(await serverStats(lb), HAPROXY_BACKENDS.reads)!));
      requests = now.reduce((a, s, i) => a + s.requests - before[i].requests, 0);
      errors = now.reduce((a, s, i) => a + s.errors - before[i].errors, 0);
      const down = now.findIndex((s) => s.status !== "UP");
      const why =
        down >= 0
          ? `the target went ${now[down].status} on HAProxy ${o.lbs[down].host}:${o.lbs[down].port}`
          : requests > 0 && errors / requests > o.maxErrorRate
            ? `${errors} of ${requests} requests sent to the target failed (${Math.min(100, (100 * errors) / requests).toFixed(1)} % > ${(100 * o.maxErrorRate).toFixed(1)} %)`
            : undefined;
      if (why) {
        await detachTarget(o.lbs);
        throw new ProbatioError(
          `stage ${percent} % of the reads failed its health gate: ${why}; every request is back on the source`,
          "nothing else changed (the database is not switched); fix the target, then --resume (the stages start again) or --rollback",
          ExitCode.failure,
        );
      }
      if (Date.now() - t0 >= o.observeMs) break;
    }
    const r = { percent, requests, errors, errorRate: requests ? errors / requests : 0 };
    results.push(r);
    o.log?.(
      `reads ${percent} % on the target: ${requests} requests, ${errors} failed, target UP on ${o.lbs.length} HAProxy${requests === 0 ? " (no traffic reached the target during this stage: it proves little)" : ""}`,
    );
  }
  return results;
}

/**
 * Before a database switch: the target must be attached and UP on every HAProxy. An HAProxy restarted since the
 * reads moved has lost its runtime settings: the slot is attached again (reads back at 0 %) and must pass.
 */
export async function ensureAttached(o: ShiftOptions): Promise<void> {
  if ((await slotsNotUp(o.lbs)).length === 0) return;
  o.log?.("the target is not attached on every HAProxy (restarted?): attaching it again");
  await attachTarget(o);
}

/** After the database switch: every request, reads and writes, goes to the target. */
export async function shiftAll(o: ShiftOptions): Promise<void> {
  for (const lb of o.lbs) for (const b of backends) await setShare(lb, b, 100);
}

/**
 * Whether the public name already leads to the target, so the source's entry points can go: none of its addresses
 * may be a source entry point, and, when the target's entry point is known, it must be among them.
 */
export function dnsVerdict(
  domain: string,
  addresses: readonly string[],
  sourceEntries: readonly string[],
  targetEntry?: string,
): string | undefined {
  const stale = addresses.filter((a) => sourceEntries.includes(a));
  if (stale.length > 0) return `${domain} still resolves to the source's entry point ${stale.join(", ")}`;
  if (targetEntry && !addresses.includes(targetEntry))
    return `${domain} resolves to ${addresses.join(", ") || "nothing"}, not to the target's entry point ${targetEntry}`;
  return undefined;
}

/** Refuses (exit 6) while DNS would still send users to machines the decommission is about to remove. */
export async function checkDnsMoved(
  domain: string,
  sourceEntries: readonly string[],
  targetEntry: string | undefined,
  resolver: (name: string) => Promise<string[]> = async (n) => (await import("dns/promises")).resolve4(n),
): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolver(domain);
  } catch (err) {
    throw new ProbatioError(
      `cannot resolve ${domain} to check that DNS points at the target: ${(err as Error).message}`,
      "check from a machine that resolves the public name, or pass --skip-dns-check once you have checked yourself",
      ExitCode.refused,
    );
  }
  const why = dnsVerdict(domain, addresses, sourceEntries, targetEntry);
  if (why) {
    throw new ProbatioError(
      `not decommissioning the source: ${why}; removing it now would cut off the users DNS still sends there`,
      `point ${domain} at ${targetEntry ?? "the target's entry point"}, wait for the record's TTL, then --resume (or --skip-dns-check if you know better)`,
      ExitCode.refused,
    );
  }
  return addresses;
}
