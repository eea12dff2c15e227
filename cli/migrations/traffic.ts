/**
 * Moving traffic from the source phase to the target through the source's HAProxy runtime API, in stages with
 * health gates between them. The rendered HAProxy configuration (components/config/haproxy.ts) carries a disabled
 * server slot `next` in its two backends: `app_reads` (GET and HEAD) and `app` (everything else). Before the
 * database switch only reads move (the target's database is a read-only replica until then); the switch sends
 * everything. A failed gate puts every read back on the source before it reports.
 */
import { lookup } from "dns/promises";
import { isIP } from "net";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { HAPROXY_BACKENDS } from "../../components/config/haproxy";
import { command, Endpoint, serverStats, ServerStat, setShare } from "./haproxyRuntime";

export * from "./haproxyRuntime";
export * from "./dnsCheck";

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
