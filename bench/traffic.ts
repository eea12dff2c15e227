/**
 * Traffic-shift benchmark (issue: migrations). Real HAProxy from probatio's rendered configuration in front of
 * three local backends (the source phase) and one more (the target's entry point), with clients sending reads and
 * writes all along, and prints:
 *  - how long the attached target takes to pass HAProxy's health checks (rendered check settings);
 *  - for each stage, the share of the reads the target actually served against the share asked;
 *  - failed requests during the whole move (reads in stages, then everything), and writes served by the target
 *    before the switch (must be 0);
 * Usage: npm run bench:traffic [-- --stage-seconds N]
 */
import { attachTarget, detachTarget, setShare, shiftAll } from "../cli/migrations/traffic";
import { stopProcess } from "../tests/service/daemons";
import { get, startBackend, startHaproxy } from "../tests/service/httpFixtures";

const stageSeconds = Number(process.argv[process.argv.indexOf("--stage-seconds") + 1]) || 5;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const sources = [await startBackend("backend1"), await startBackend("backend2"), await startBackend("backend3")];
  const target = await startBackend("phase4");
  // The rendered production check settings: inter 2 s, fall 3, rise 2.
  const lb = await startHaproxy(sources, 2000, 3);
  const api = { host: "127.0.0.1", port: lb.adminPort };
  const seen: { method: string; status: number; body: string; ms: number; phase: string }[] = [];
  let phase = "before";
  let running = true;
  const clients = Array.from({ length: 4 }, (_, k) =>
    (async () => {
      for (let i = 0; running; i++) {
        const method = (i + k) % 4 === 3 ? "POST" : "GET";
        const t0 = process.hrtime.bigint();
        const r = await get(lb.port, "/doc", method).catch(() => ({ status: 0, body: "" }));
        seen.push({ method, ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6, phase });
      }
    })(),
  );
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    await attachTarget({ lbs: [api], target: { host: "127.0.0.1", port: target.port }, stages: [], observeMs: 0, maxErrorRate: 0.01 });
    console.log(`target attached and UP after ${Date.now() - t0} ms (HAProxy checks: inter 2000 ms, rise 2)`);
    for (const share of [5, 25, 50, 100]) {
      phase = `reads ${share}`;
      await setShare(api, "app_reads", share);
      await new Promise((r) => setTimeout(r, stageSeconds * 1000));
      const reads = seen.filter((x) => x.phase === phase && x.method === "GET");
      const onTarget = reads.filter((x) => x.body === "phase4").length;
      console.log(`stage ${String(share).padStart(3)} %: target served ${pct(onTarget / reads.length)} of ${reads.length} reads`);
    }
    phase = "switched";
    await shiftAll({ lbs: [api], target: { host: "127.0.0.1", port: target.port }, stages: [], observeMs: 0, maxErrorRate: 0.01 });
    await new Promise((r) => setTimeout(r, stageSeconds * 1000));
  } finally {
    running = false;
    await Promise.all(clients);
  }
  const failed = seen.filter((x) => x.status !== 200).length;
  const earlyWrites = seen.filter((x) => x.phase !== "switched" && x.method === "POST" && x.body === "phase4").length;
  const afterSwitch = seen.filter((x) => x.phase === "switched");
  console.log(
    `requests: ${seen.length}, failed: ${failed}; writes on the target before the switch: ${earlyWrites}; after the switch on the target: ${pct(afterSwitch.filter((x) => x.body === "phase4").length / afterSwitch.length)}`,
  );
  const ms = (p: string) => median(seen.filter((x) => x.phase === p).map((x) => x.ms)).toFixed(2);
  console.log(`median request latency (4 clients, loopback): ${ms("reads 5")} ms at 5 %, ${ms("switched")} ms after the switch`);
  await detachTarget([api]);
  await stopProcess(lb.proc);
  await Promise.all([...sources, target].map((b) => b.stop()));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
