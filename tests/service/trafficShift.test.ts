import { ChildProcess } from "child_process";
import {
  attachTarget,
  detachTarget,
  Endpoint,
  serverStats,
  setShare,
  shiftAll,
  shiftReads,
  ShiftOptions,
} from "../../cli/migrations/traffic";
import { ProbatioError } from "../../lib/errors";
import { freePort, stopProcess } from "./daemons";
import { Backend, get, Haproxy, startBackend, startHaproxy } from "./httpFixtures";

jest.setTimeout(120_000);

/** Sends GETs (and POSTs when asked) through HAProxy until stopped; returns who answered each. */
function load(lb: Haproxy, withPosts: boolean) {
  const seen: { method: string; body: string; status: number }[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const method = withPosts && i % 2 === 1 ? "POST" : "GET";
      const r = await get(lb.port, "/doc", method).catch(() => ({ status: 0, body: "" }));
      seen.push({ method, ...r });
    }
  })();
  return {
    seen,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

async function bodies(lb: Haproxy, n: number, method = "GET"): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await get(lb.port, "/doc", method)).body);
  return out;
}

describe("moving traffic through the source's HAProxy (rendered configuration, runtime API on loopback)", () => {
  let sources: Backend[];
  let target: Backend;
  let lb: Haproxy;
  let api: Endpoint;
  const options = (over: Partial<ShiftOptions> = {}): ShiftOptions => ({
    lbs: [api],
    target: { host: "127.0.0.1", port: target.port },
    stages: [10, 50, 100],
    observeMs: 1500,
    maxErrorRate: 0.01,
    healthTimeoutMs: 10_000,
    ...over,
  });
  beforeAll(async () => {
    sources = [await startBackend("source1"), await startBackend("source2")];
    target = await startBackend("target");
    lb = await startHaproxy(sources);
    api = { host: "127.0.0.1", port: lb.adminPort };
  });
  afterAll(async () => {
    await stopProcess(lb?.proc as ChildProcess);
    await Promise.all([...sources, target].map((b) => b?.stop().catch(() => undefined)));
  });
  afterEach(async () => {
    target.status = 200;
    await detachTarget([api]);
  });

  test("before any migration the slot takes nothing: every request is served by the source", async () => {
    const slot = (await serverStats(api)).filter((s) => s.server === "next");
    expect(slot.map((s) => [s.backend, s.status, s.weight])).toEqual([
      ["app", "MAINT", 0],
      ["app_reads", "MAINT", 0],
    ]);
    expect(new Set(await bodies(lb, 10))).toEqual(new Set(["source1", "source2"]));
  });

  test("reads move in stages with the asked shares, writes never reach the target before the switch, the switch sends everything", async () => {
    const traffic = load(lb, true);
    const lines: string[] = [];
    const stages = await shiftReads(options({ log: (l) => lines.push(l) }));
    await traffic.stop();
    expect(stages.map((s) => s.percent)).toEqual([10, 50, 100]);
    for (const s of stages) {
      expect(s.requests).toBeGreaterThan(0);
      expect(s.errors).toBe(0);
    }
    expect(lines[0]).toMatch(/^reads 10 % on the target: \d+ requests, 0 failed, target UP on 1 HAProxy$/);
    expect(traffic.seen.filter((r) => r.status !== 200)).toEqual([]);
    expect(traffic.seen.filter((r) => r.method === "POST" && r.body === "target")).toEqual([]);
    expect(target.methods.POST).toBeUndefined();
    // At 100 % of the reads: every GET on the target, every POST still on the source.
    expect(new Set(await bodies(lb, 10))).toEqual(new Set(["target"]));
    expect(new Set(await bodies(lb, 10, "POST"))).toEqual(new Set(["source1", "source2"]));
    await shiftAll(options());
    expect(new Set([...(await bodies(lb, 10)), ...(await bodies(lb, 10, "POST"))])).toEqual(new Set(["target"]));
  });

  test("each stage sends its asked share of the reads to the target, measured over 200 reads", async () => {
    // Measured in the order a migration moves (the slot's share only grows). Going back down from 100 % (sources
    // re-entering from weight 0) is not a path a migration takes, and HAProxy's round-robin then needs more than one
    // round to settle: a CI run measured 1 read of 200 on the target at 10 % in that order.
    await attachTarget(options());
    for (const [percent, low, high] of [
      [10, 14, 26],
      [50, 90, 110],
    ]) {
      await setShare(api, "app_reads", percent);
      // A changed weight governs the round-robin from the next scheduling round: one round (the weights' sum, 20
      // requests) is served before the measurement, so that the 200 measured reads are all under the new shares.
      await bodies(lb, 20);
      const got = await bodies(lb, 200);
      const n = got.filter((b) => b === "target").length;
      const weights = (await serverStats(api)).filter((x) => x.backend === "app_reads").map((x) => `${x.server} ${x.status} ${x.weight}`);
      expect([percent, n >= low && n <= high ? "in range" : n, weights]).toEqual([percent, "in range", weights]);
    }
  });

  test("a target answering 5xx fails the stage's gate, even when HAProxy's retries hide the errors from clients: every request is back on the source", async () => {
    target.status = 500;
    const traffic = load(lb, false);
    const err = await shiftReads(options({ stages: [50, 100], observeMs: 4000 })).catch((e) => e);
    await traffic.stop();
    expect(err).toBeInstanceOf(ProbatioError);
    expect(err.message).toMatch(
      /^stage 50 % of the reads failed its health gate: \d+ of \d+ requests sent to the target failed \((9\d|100)\.\d % > 1\.0 %\); every request is back on the source$/,
    );
    const slot = (await serverStats(api)).filter((s) => s.server === "next");
    expect(slot.map((s) => [s.status, s.weight])).toEqual([
      ["MAINT", 0],
      ["MAINT", 0],
    ]);
    expect(new Set(await bodies(lb, 20))).toEqual(new Set(["source1", "source2"]));
  });

  test("a target that does not pass HAProxy's health checks never gets a request", async () => {
    const nothing = await freePort();
    const hits = target.hits;
    const err = await shiftReads(options({ target: { host: "127.0.0.1", port: nothing }, healthTimeoutMs: 2000 })).catch((e) => e);
    expect(err).toBeInstanceOf(ProbatioError);
    expect(err.message).toContain(`the target 127.0.0.1:${nothing} does not pass the health checks of HAProxy 127.0.0.1:${lb.adminPort}`);
    expect(new Set(await bodies(lb, 10))).toEqual(new Set(["source1", "source2"]));
    expect(target.hits).toBe(hits);
  });

  test("a runtime API that is not there is a clear error", async () => {
    const nothing = await freePort();
    const err = await serverStats({ host: "127.0.0.1", port: nothing }).catch((e) => e);
    expect(err).toBeInstanceOf(ProbatioError);
    expect(err.message).toContain(`HAProxy's runtime API at 127.0.0.1:${nothing} did not answer 'show stat'`);
  });
});
