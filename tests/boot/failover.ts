/**
 * PostgreSQL's failover on booted machines: an application writes through pgBouncer (one row per transaction, each
 * acknowledged one recorded) while a machine is killed hard; then what the application saw, and what the cluster kept.
 * Shared by the phase 2 and 3 boot suites and the failover benchmark.
 */
import { ports, DEFAULT_PGBOUNCER } from "../../lib/defaults";
import { PLAN_DB_PASSWORD } from "../../offline/plan";
import { BootNetwork } from "./harness";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DbNode {
  readonly name: string;
  readonly address: string;
}

export interface Write {
  readonly t: number;
  readonly ok: boolean;
  readonly n: number;
}

/** What one kill did, as the application saw it. */
export interface KillOutcome {
  readonly victim: string;
  readonly leaderBefore: string;
  readonly leaderAfter: string;
  /** Seconds from the kill to the first write accepted after the last refused one (0: none refused). */
  readonly resumedAfterS: number;
  readonly refused: number;
  readonly acknowledged: number[];
  /** Acknowledged rows the leader does not have afterwards (a lost commit). */
  readonly lost: number[];
}

const psql = (host: string, port: number, sql: string) =>
  `PGPASSWORD='${PLAN_DB_PASSWORD}' timeout 3 psql -XAtq "host=${host} port=${port} dbname=app user=app connect_timeout=2" -c "${sql}"`;

/** Which node Patroni calls the leader now (its REST API answers 200 on /primary), asked from the test network. */
export async function leaderOf(net: BootNetwork, nodes: readonly DbNode[]): Promise<string | undefined> {
  const leaders: string[] = [];
  for (const n of nodes) {
    const r = await net.probe(`curl -s -o /dev/null -w '%{http_code}' -m 2 http://${n.address}:${ports.patroni}/primary`);
    if (r.stdout.trim() === "200") leaders.push(n.name);
  }
  return leaders.length === 1 ? leaders[0] : undefined;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

/** The table the writer fills (created through pgBouncer, as the application would). */
export async function createWriteTable(net: BootNetwork, pgbouncer: string): Promise<void> {
  const r = await net.probe(psql(pgbouncer, DEFAULT_PGBOUNCER.port, "CREATE TABLE IF NOT EXISTS failover_check (n bigint PRIMARY KEY)"));
  if (r.code !== 0) throw new Error(`cannot create the table through pgBouncer: ${r.stderr}`);
}

/** Writes rows base+1, base+2, ... through pgBouncer for `seconds`, each in its own transaction, 2 s timeout each. */
export async function write(net: BootNetwork, pgbouncer: string, base: number, seconds: number): Promise<Write[]> {
  const insert = psql(pgbouncer, DEFAULT_PGBOUNCER.port, "INSERT INTO failover_check VALUES ($n)");
  const r = await net.probe(
    `end=$((SECONDS+${seconds})); i=0; while [ $SECONDS -lt $end ]; do i=$((i+1)); n=$((${base}+i)); ` +
      `if ${insert} >/dev/null 2>&1; then echo "$(date +%s.%N) ok $n"; else echo "$(date +%s.%N) fail $n"; sleep 0.1; fi; done`,
    (seconds + 30) * 1000,
  );
  return r.stdout
    .trim()
    .split("\n")
    .filter((l) => l)
    .map((l) => l.split(" "))
    .map(([t, s, n]) => ({ t: Number(t), ok: s === "ok", n: Number(n) }));
}

/** The rows of `acknowledged` the leader does not have. */
export async function missingRows(net: BootNetwork, leader: DbNode, acknowledged: readonly number[]): Promise<number[]> {
  const r = await net.probe(psql(leader.address, ports.postgres, "SELECT n FROM failover_check"));
  if (r.code !== 0) throw new Error(`cannot read the rows on ${leader.name}: ${r.stderr}`);
  const have = new Set(r.stdout.trim().split("\n").map(Number));
  return acknowledged.filter((n) => !have.has(n));
}

/**
 * Kills `victim` hard (its link cut, every process SIGKILLed) 5 s into a write run through pgBouncer (45 s), then
 * waits for a leader and reads back every acknowledged row from it. The victim stays down (the caller restarts it).
 */
export async function killWhileWriting(
  net: BootNetwork,
  nodes: readonly DbNode[],
  pgbouncer: string,
  victim: string,
  base: number,
  seconds = 45,
): Promise<KillOutcome> {
  const leaderBefore = await waitFor("a leader before the kill", () => leaderOf(net, nodes), 120_000);
  const writes = write(net, pgbouncer, base, seconds);
  await sleep(5000);
  const killedAt = Date.now() / 1000;
  await net.stop(victim, true);
  const log = await writes;
  const alive = nodes.filter((n) => n.name !== victim);
  const leaderAfter = await waitFor("a leader after the kill", () => leaderOf(net, alive), 120_000);
  const after = log.filter((w) => w.t >= killedAt);
  const lastRefused = [...after].reverse().find((w) => !w.ok);
  const firstOk = lastRefused ? after.find((w) => w.ok && w.t > lastRefused.t) : undefined;
  const acknowledged = log.filter((w) => w.ok).map((w) => w.n);
  return {
    victim,
    leaderBefore,
    leaderAfter,
    resumedAfterS: lastRefused ? (firstOk ? firstOk.t - killedAt : Infinity) : 0,
    refused: after.filter((w) => !w.ok).length,
    acknowledged,
    lost: await missingRows(
      net,
      nodes.find((n) => n.name === leaderAfter)!,
      acknowledged,
    ),
  };
}

/** Boots a killed node again and waits until Patroni runs it as a streaming standby of the leader. */
export async function rejoin(net: BootNetwork, node: DbNode, timeoutMs = 180_000): Promise<void> {
  await net.restart(node.name);
  await waitFor(
    `${node.name} streaming as a standby`,
    async () => {
      const api = await net.probe(`curl -s -o /dev/null -w '%{http_code}' -m 2 http://${node.address}:${ports.patroni}/replica`);
      if (api.stdout.trim() !== "200") return undefined;
      const r = await net.exec(node.name, `sudo -u postgres psql -Atc "select status from pg_stat_wal_receiver"`);
      return r.stdout.trim() === "streaming" || undefined;
    },
    timeoutMs,
  );
}

/** The leader's standbys as PostgreSQL reports them: "name|state|sync_state", sorted. */
export async function replicationOf(net: BootNetwork, leader: string): Promise<string[]> {
  const r = await net.exec(
    leader,
    `sudo -u postgres psql -Atc "select application_name, state, sync_state from pg_stat_replication order by 1"`,
  );
  return r.stdout
    .trim()
    .split("\n")
    .filter((l) => l);
}

export const summarize = (o: KillOutcome) =>
  `${o.victim} killed (leader ${o.leaderBefore} -> ${o.leaderAfter}): writes resumed ${o.resumedAfterS.toFixed(1)} s after, ` +
  `${o.refused} refused, ${o.acknowledged.length} acknowledged, ${o.lost.length} lost`;

/** The database nodes and the pgBouncer machine of a booted phase. */
export function clusterOf(machines: readonly { name: string; role: string; address: string }[]) {
  const nodes = machines.filter((m) => /^prod-database-/.test(m.name)).map((m) => ({ name: m.name, address: m.address }));
  const pgbouncer = machines.find((m) => m.role === "pgbouncer")!;
  return { nodes, pgbouncer: { name: pgbouncer.name, address: pgbouncer.address } };
}

/**
 * The witness (the pgBouncer machine, the store's third member) killed: the application loses its pooler (the one
 * single point of failure left on this path), the cluster loses nothing: no failover for two ttls, the leader takes
 * writes directly; back up, writes through pgBouncer resume.
 */
export async function killWitness(
  net: BootNetwork,
  nodes: readonly DbNode[],
  pgbouncer: DbNode,
  ttlS: number,
): Promise<{ leader: string; leadersSeen: (string | null)[]; direct: string; through: string }> {
  const leader = await waitFor("a leader", () => leaderOf(net, nodes), 60_000);
  await net.stop(pgbouncer.name, true);
  const leaders: (string | undefined)[] = [];
  for (let t = 0; t < 2 * ttlS; t += 2) {
    leaders.push(await leaderOf(net, nodes));
    await sleep(2000);
  }
  const direct = await net.probe(
    psql(nodes.find((n) => n.name === leader)!.address, ports.postgres, "INSERT INTO failover_check VALUES (-1)"),
  );
  await net.restart(pgbouncer.name);
  const through = await waitFor(
    "a write through pgBouncer after its restart",
    async () =>
      (await net.probe(psql(pgbouncer.address, DEFAULT_PGBOUNCER.port, "INSERT INTO failover_check VALUES (-2)"))).code === 0
        ? "ok"
        : undefined,
    120_000,
  );
  return {
    leader,
    leadersSeen: [...new Set(leaders.map((l) => l ?? null))],
    direct: direct.code === 0 ? "ok" : direct.stderr.trim(),
    through,
  };
}
