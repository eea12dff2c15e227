/**
 * Failover benchmark (issue: service configuration). Starts the real daemons from probatio's rendered
 * configuration on loopback and prints:
 *  - Redis Sentinel failover: master SIGKILLed -> first write accepted by the master Sentinel names;
 *  - HAProxy: failed requests while a backend dies, and how long until it is marked DOWN.
 * The seeds promise automatic failover under 30 s (ProbatioVault phase 4).
 * Usage: npm run bench:failover [-- --runs N]
 */
import { stopProcess, waitUntil } from "../tests/service/daemons";
import { get, startBackend, startHaproxy } from "../tests/service/httpFixtures";
import { killMasterAndMeasure, startRedisSet } from "../tests/service/redisSet";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1]) || 3;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]} ms, min ${s[0]} ms, max ${s[s.length - 1]} ms (n=${s.length})`;
};

async function sentinel(downAfterMs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const set = await startRedisSet({ downAfterMs, failoverTimeoutMs: 60_000 });
    try {
      out.push((await killMasterAndMeasure(set)).failoverMs);
    } finally {
      await set.stop();
    }
  }
  return out;
}

async function haproxy(checkIntervalMs: number, fall: number): Promise<{ failed: number; total: number; downMs: number }> {
  const backends = [await startBackend("backend1"), await startBackend("backend2"), await startBackend("backend3")];
  const lb = await startHaproxy(backends, checkIntervalMs, fall);
  try {
    let failed = 0;
    let total = 0;
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        total++;
        const r = await get(lb.port).catch(() => ({ status: 0 }));
        if (r.status !== 200) failed++;
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    await backends[1].stop();
    const downMs = await waitUntil(
      async () => /backend2,[^\n]*,DOWN/.test((await get(lb.statsPort, "/stats;csv")).body),
      60_000,
      "DOWN",
      20,
    );
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await loop;
    return { failed, total, downMs };
  } finally {
    await stopProcess(lb.proc);
    await Promise.all(backends.map((b) => b.stop().catch(() => undefined)));
  }
}

async function main(): Promise<void> {
  console.log(`probatio failover benchmark (${runs} runs each, real daemons on loopback)`);
  console.log(`Redis Sentinel failover, rendered default down-after 1500 ms: ${stats(await sentinel(1500))}`);
  console.log(`Redis Sentinel failover, down-after 5000 ms (Redis's usual):  ${stats(await sentinel(5000))}`);
  console.log("PostgreSQL failover (Patroni, machines killed hard): npm run bench:pg-failover");
  const h = await haproxy(2000, 3);
  console.log(
    `HAProxy, rendered checks (inter 2 s, fall 3): ${h.failed} failed of ${h.total} requests while a backend died; marked DOWN after ${h.downMs} ms`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
