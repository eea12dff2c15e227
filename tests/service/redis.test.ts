import { cli, killMasterAndMeasure, masterPortFromSentinel, RedisSet, startRedisSet } from "./redisSet";

jest.setTimeout(120_000);

describe("Redis with three Sentinels (quorum 2) from the rendered configuration", () => {
  let set: RedisSet;
  beforeAll(async () => {
    set = await startRedisSet({ downAfterMs: 1000, failoverTimeoutMs: 10_000 });
  });
  afterAll(async () => set?.stop());

  test("the password is required, replicas are read-only, and writes on the master reach the replicas", async () => {
    await expect(cli(set.redisPorts[0], "PING").then(() => "ok")).resolves.toBe("ok");
    const { exec } = await import("./daemons");
    const noAuth = await exec("redis-cli", ["-h", "127.0.0.1", "-p", String(set.redisPorts[0]), "SET", "a", "1"]);
    expect(noAuth.stdout).toMatch(/NOAUTH/);
    expect(await cli(set.redisPorts[0], "SET", "session:42", "alice")).toBe("OK");
    expect(await cli(set.redisPorts[1], "SET", "x", "1")).toMatch(/READONLY/);
    expect(await cli(set.redisPorts[0], "WAIT", "2", "2000")).toBe("2");
    expect(await cli(set.redisPorts[1], "GET", "session:42")).toBe("alice");
    expect(await cli(set.redisPorts[2], "GET", "session:42")).toBe("alice");
    expect(await cli(set.redisPorts[0], "CONFIG", "GET", "maxmemory-policy")).toBe("maxmemory-policy\nallkeys-lru");
  });

  test("kill the master: a replica is promoted, clients find it through Sentinel, and it accepts writes", async () => {
    const before = await masterPortFromSentinel(set.sentinelPorts);
    expect(before).toBe(set.redisPorts[0]);
    const { failoverMs, newMasterPort } = await killMasterAndMeasure(set);
    expect(newMasterPort).not.toBe(before);
    expect(set.redisPorts.slice(1)).toContain(newMasterPort);
    expect(await cli(newMasterPort, "GET", "session:42")).toBe("alice");
    expect(await cli(newMasterPort, "ROLE")).toMatch(/^master/);
    expect(failoverMs).toBeLessThan(30_000);
  });
});
