import * as pulumi from "@pulumi/pulumi";
import { machineFiles, mock } from "../helpers";
import { RedisSentinel, validateRedisSentinelArgs } from "../../components/redisSentinel";

describe("RedisSentinel", () => {
  test("three nodes + Sentinel: quorum 2, password, private bind, replicas follow node 1", async () => {
    const run = await mock(
      () =>
        new RedisSentinel("redis", {
          stack: "prod",
          phase: 3,
          nodes: 3,
          sentinel: true,
          password: pulumi.secret("r3dis"),
          maxmemoryPolicy: "allkeys-lru",
          machines: { offer: "d2-2", networkId: "net", fixedIps: ["10.1.0.20", "10.1.0.21", "10.1.0.22"] },
        }),
    );
    const n2 = machineFiles(run, "redis-nodes", 1);
    expect(n2["/etc/redis/redis.conf"]).toContain("bind 127.0.0.1 10.1.0.21");
    expect(n2["/etc/redis/redis.conf"]).toContain('requirepass "r3dis"');
    expect(n2["/etc/redis/redis.conf"]).toContain("replicaof 10.1.0.20 6379");
    expect(n2["/etc/redis/redis.conf"]).toContain("maxmemory-policy allkeys-lru");
    expect(n2["/etc/redis/sentinel.conf"]).toContain("sentinel monitor prod-redis 10.1.0.20 6379 2");
    expect(machineFiles(run, "redis-nodes", 0)["/etc/redis/redis.conf"]).not.toContain("replicaof");
  });

  test.each([
    [
      { nodes: 4, sentinel: true, machines: { offer: "x", fixedIps: ["a", "b", "c", "d"] } },
      "an even Sentinel set (4) can split in two halves",
    ],
    [{ nodes: 1, sentinel: true }, "Sentinel needs at least 3 nodes"],
    [{ nodes: 3, sentinel: true, quorum: 1 }, "argument 'quorum' must be a majority of the 3 sentinels (2-3), got 1"],
    [{ maxmemoryPolicy: "lru" }, "argument 'maxmemoryPolicy' must be one of"],
    [{ nodes: 3, machines: { offer: "x" } }, "argument 'machines.fixedIps' must give one private address per node (3)"],
  ])("validation refuses %j", (bad, message) => {
    expect(() =>
      validateRedisSentinelArgs({
        stack: "s",
        phase: 3,
        password: "p",
        machines: { offer: "d2-2", fixedIps: ["a", "b", "c"] },
        ...(bad as object),
      } as never),
    ).toThrow(message);
  });
});
