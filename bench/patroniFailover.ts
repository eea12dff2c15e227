/**
 * PostgreSQL failover benchmark on booted machines (issue: high availability). Boots the database machines and the
 * pgBouncer machine of ProbatioVault phase 2 or 3 from their exact user data (the rest of the phase is not needed),
 * then kills the leader hard N times while an application writes through pgBouncer, and prints the time from the
 * crash to the first accepted write (p50, p95), the refused writes and the acknowledged writes lost.
 * Usage: npm run bench:pg-failover -- --phase 3 --runs 10   (root; about 4 min to boot, then ~1.5 min a run)
 */
import { DEFAULT_PATRONI_TIMINGS } from "../lib/defaults";
import { clusterOf, createWriteTable, KillOutcome, killWhileWriting, leaderOf, rejoin, summarize, waitFor } from "../tests/boot/failover";
import { BootNetwork } from "../tests/boot/harness";
import { bootPlan } from "../tests/boot/phases";
import { buildStandins } from "../tests/boot/standins";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const phase = arg("--phase", 3);
const runs = arg("--runs", 5);

const quantile = (xs: readonly number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

async function main(): Promise<void> {
  if (phase !== 2 && phase !== 3) throw new Error("--phase is 2 or 3");
  const t = DEFAULT_PATRONI_TIMINGS;
  console.log(`PostgreSQL failover, ProbatioVault phase ${phase}: ${runs} hard kills of the leader while writing through pgBouncer`);
  console.log(`Patroni timings: ttl ${t.ttl} s, loop_wait ${t.loopWait} s, retry_timeout ${t.retryTimeout} s`);
  const full = await bootPlan("probatio", phase, "prod", {});
  const machines = full.machines.filter((m) => /^prod-(database|pgbouncer)-/.test(m.name));
  const net = await BootNetwork.create(`pgfo${phase}`, full.gateway, full.prefixLength, machines, buildStandins());
  const outcomes: KillOutcome[] = [];
  try {
    await net.createBucket("prod-pg-backups");
    const t0 = Date.now();
    await net.boot(machines);
    for (const m of machines) {
      const r = await net.cloudInit(m.name);
      if (!/status: done/.test(r.status) || r.errors.length) throw new Error(`${m.name}: ${r.status} ${r.errors.join("; ")}`);
    }
    console.log(`${machines.length} machines up in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const { nodes, pgbouncer } = clusterOf(machines);
    await createWriteTable(net, pgbouncer.address);
    for (let i = 1; i <= runs; i++) {
      const leader = await waitFor("a leader", () => leaderOf(net, nodes), 120_000);
      const o = await killWhileWriting(net, nodes, pgbouncer.address, leader, i * 1_000_000);
      console.log(`run ${i}: ${summarize(o)}`);
      outcomes.push(o);
      await rejoin(
        net,
        nodes.find((n) => n.name === o.victim)!,
      );
    }
  } finally {
    await net.destroy();
  }
  const times = outcomes.map((o) => o.resumedAfterS);
  console.log(
    `crash -> first accepted write: p50 ${quantile(times, 0.5).toFixed(1)} s, p95 ${quantile(times, 0.95).toFixed(1)} s, ` +
      `min ${Math.min(...times).toFixed(1)} s, max ${Math.max(...times).toFixed(1)} s (n=${times.length})`,
  );
  console.log(
    `refused writes per failover: ${outcomes.map((o) => o.refused).join(", ")}; acknowledged writes lost: ${outcomes.reduce((a, o) => a + o.lost.length, 0)}`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
