/** Redis master + 2 replicas + 3 Sentinels from the rendered configuration, on free loopback ports. */
import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderRedisConf, renderSentinelConf } from "../../components/config/redis";
import { exec, freePort, stopProcess, waitUntil } from "./daemons";

export const REDIS_PASSWORD = "R3dis-Sentinel-pass";
export const MASTER_NAME = "prod-redis";

export interface RedisSet {
  readonly redisPorts: number[];
  readonly sentinelPorts: number[];
  readonly redis: ChildProcess[];
  readonly sentinels: ChildProcess[];
  stop(): Promise<void>;
}

export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await exec("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "-a", REDIS_PASSWORD, "--no-auth-warning", ...args], {
    timeout: 5000,
  });
  return stdout.trim();
}

/** What a client does: ask any Sentinel where the master is. */
export async function masterPortFromSentinel(sentinelPorts: number[]): Promise<number> {
  for (const p of sentinelPorts) {
    try {
      const out = await cli(p, "SENTINEL", "get-master-addr-by-name", MASTER_NAME);
      const lines = out.split("\n");
      if (lines.length === 2) return Number(lines[1]);
    } catch {
      /* try the next sentinel */
    }
  }
  throw new Error("no sentinel answered");
}

export async function startRedisSet(timings: { downAfterMs: number; failoverTimeoutMs: number }): Promise<RedisSet> {
  const dir = mkdtempSync(join(tmpdir(), "probatio-redis-"));
  const redisPorts = [await freePort(), await freePort(), await freePort()];
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const redis = redisPorts.map((port, i) => {
    const d = mkdtempSync(join(dir, `redis${i}-`));
    const conf = join(d, "redis.conf");
    writeFileSync(
      conf,
      renderRedisConf({
        bind: "127.0.0.1",
        port,
        password: REDIS_PASSWORD,
        maxmemory: "64mb",
        maxmemoryPolicy: "allkeys-lru",
        dir: d,
        foreground: true,
        replicaOf: i > 0 ? { host: "127.0.0.1", port: redisPorts[0] } : undefined,
      }),
    );
    return spawn("redis-server", [conf], { stdio: "ignore" });
  });
  // Replicas first sync after repl-diskless-sync-delay (5 s by default): wait until both are online.
  await waitUntil(
    async () => ((await cli(redisPorts[0], "INFO", "replication")).match(/state=online/g) ?? []).length === 2,
    30_000,
    "two replicas online",
  );
  const sentinels = sentinelPorts.map((port, i) => {
    const d = mkdtempSync(join(dir, `sentinel${i}-`));
    const conf = join(d, "sentinel.conf");
    writeFileSync(
      conf,
      renderSentinelConf({
        bind: "127.0.0.1",
        port,
        masterName: MASTER_NAME,
        masterHost: "127.0.0.1",
        masterPort: redisPorts[0],
        quorum: 2,
        password: REDIS_PASSWORD,
        downAfterMs: timings.downAfterMs,
        failoverTimeoutMs: timings.failoverTimeoutMs,
        dir: d,
        announceIp: "127.0.0.1",
      }),
    );
    return spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
  });
  await waitUntil(
    async () => {
      const out = await cli(sentinelPorts[0], "SENTINEL", "master", MASTER_NAME);
      const fields = out.split("\n");
      const get = (k: string) => fields[fields.indexOf(k) + 1];
      return get("num-other-sentinels") === "2" && get("num-slaves") === "2";
    },
    30_000,
    "sentinels to discover each other and the replicas",
  );
  return {
    redisPorts,
    sentinelPorts,
    redis,
    sentinels,
    async stop() {
      await Promise.all([...redis, ...sentinels].map((p) => stopProcess(p)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kills the master (SIGKILL) and measures until a write is accepted by the master Sentinel reports. */
export async function killMasterAndMeasure(set: RedisSet): Promise<{ failoverMs: number; newMasterPort: number }> {
  const oldPort = await masterPortFromSentinel(set.sentinelPorts);
  const victim = set.redis[set.redisPorts.indexOf(oldPort)];
  const t0 = Date.now();
  victim.kill("SIGKILL");
  let newMasterPort = oldPort;
  await waitUntil(
    async () => {
      newMasterPort = await masterPortFromSentinel(set.sentinelPorts);
      if (newMasterPort === oldPort) return false;
      return (await cli(newMasterPort, "SET", "failover-probe", String(Date.now()))) === "OK";
    },
    60_000,
    "a new master answering writes",
    20,
  );
  return { failoverMs: Date.now() - t0, newMasterPort };
}
