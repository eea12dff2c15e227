import * as pulumi from "@pulumi/pulumi";
import { bundleToCloudInit, ServiceBundle } from "./config/bundle";
import { withNodeExporter } from "./config/nodeExporter";
import { renderRedisConf, renderSentinelConf } from "./config/redis";
import { ports } from "../lib/defaults";
import { machineName } from "./labels";
import { MachineOptions } from "./machines";
import { ArgumentError } from "./validation";
import { VpsFleet } from "./vpsFleet";

export interface RedisSentinelArgs {
  /** Stack name and phase (machine names and labels). */
  readonly stack: string;
  readonly phase: number;
  /**
   * Machine role.
   * @default "cache"
   */
  readonly role?: string;
  /**
   * 1 (cache/sessions) or 3 (master + 2 replicas).
   * @default 1
   */
  readonly nodes?: number;
  /**
   * Run Sentinel beside each node.
   * @default false. Needs an odd number of nodes, at least 3
   */
  readonly sentinel?: boolean;
  /**
   * Sentinels that must agree the master is down.
   * @default 2 (of 3)
   */
  readonly quorum?: number;
  /** Password of Redis and Sentinel (a Pulumi secret). */
  readonly password: pulumi.Input<string>;
  /**
   * maxmemory.
   * @default "1gb"
   */
  readonly maxmemory?: string;
  /**
   * maxmemory-policy.
   * @default "allkeys-lru" (cache); use "noeviction" for queues (BullMQ)
   */
  readonly maxmemoryPolicy?: string;
  /**
   * Prometheus's node exporter on the machines (the phase is monitored).
   * @default false
   */
  readonly nodeExporter?: boolean;
  /** Machines: variant, offer, network. `fixedIps` (one per node) are required for more than one node. */
  readonly machines: MachineOptions;
  /**
   * Sentinel timings.
   * @default down after 1500 ms (a private network; Redis has no GC pauses), failover timeout 60000 ms
   */
  readonly downAfterMs?: number;
  readonly failoverTimeoutMs?: number;
}

const POLICIES = [
  "noeviction",
  "allkeys-lru",
  "allkeys-lfu",
  "volatile-lru",
  "volatile-lfu",
  "allkeys-random",
  "volatile-random",
  "volatile-ttl",
];

export function validateRedisSentinelArgs(args: RedisSentinelArgs): void {
  const nodes = args.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new ArgumentError("RedisSentinel", "nodes", `must be 1-9 (got ${nodes})`);
  if (args.sentinel) {
    if (nodes < 3)
      throw new ArgumentError("RedisSentinel", "nodes", `Sentinel needs at least 3 nodes to elect a new master (got ${nodes})`);
    if (nodes % 2 === 0)
      throw new ArgumentError(
        "RedisSentinel",
        "nodes",
        `an even Sentinel set (${nodes}) can split in two halves with no majority; use an odd number`,
      );
    const quorum = args.quorum ?? 2;
    if (quorum < Math.floor(nodes / 2) + 1 || quorum > nodes) {
      throw new ArgumentError(
        "RedisSentinel",
        "quorum",
        `must be a majority of the ${nodes} sentinels (${Math.floor(nodes / 2) + 1}-${nodes}), got ${quorum}`,
      );
    }
  }
  const policy = args.maxmemoryPolicy ?? "allkeys-lru";
  if (!POLICIES.includes(policy))
    throw new ArgumentError("RedisSentinel", "maxmemoryPolicy", `must be one of ${POLICIES.join(", ")} (got '${policy}')`);
  if (nodes > 1 && args.machines.fixedIps?.length !== nodes) {
    throw new ArgumentError(
      "RedisSentinel",
      "machines.fixedIps",
      `must give one private address per node (${nodes}) so replicas and sentinels find the master`,
    );
  }
}

export interface RedisNodeSettings {
  readonly index: number;
  readonly addresses: readonly string[];
  readonly password: string;
  readonly maxmemory: string;
  readonly maxmemoryPolicy: string;
  readonly sentinel?: { readonly quorum: number; readonly downAfterMs: number; readonly failoverTimeoutMs: number };
  readonly masterName: string;
}

/** Node i's packages and files: node 0 starts as master, the others replicate it. Pure. */
export function redisNodeBundle(s: RedisNodeSettings): ServiceBundle {
  const self = s.addresses[s.index] ?? "0.0.0.0";
  const bind = s.addresses.length > 1 ? `127.0.0.1 ${self}` : "0.0.0.0";
  const files = [
    {
      path: "/etc/redis/redis.conf",
      owner: "redis:redis",
      permissions: "0640",
      content: renderRedisConf({
        bind,
        port: ports.redis,
        password: s.password,
        maxmemory: s.maxmemory,
        maxmemoryPolicy: s.maxmemoryPolicy,
        dir: "/var/lib/redis",
        replicaOf: s.index > 0 ? { host: s.addresses[0], port: ports.redis } : undefined,
      }),
    },
  ];
  const packages = ["redis-server"];
  const commands = ["systemctl restart redis-server"];
  if (s.sentinel) {
    packages.push("redis-sentinel");
    files.push({
      path: "/etc/redis/sentinel.conf",
      owner: "redis:redis",
      permissions: "0640",
      content: renderSentinelConf({
        bind: `127.0.0.1 ${self}`,
        port: ports.sentinel,
        masterName: s.masterName,
        masterHost: s.addresses[0],
        masterPort: ports.redis,
        quorum: s.sentinel.quorum,
        password: s.password,
        downAfterMs: s.sentinel.downAfterMs,
        failoverTimeoutMs: s.sentinel.failoverTimeoutMs,
        dir: "/var/lib/redis",
        announceIp: self,
      }),
    });
    commands.push("systemctl restart redis-sentinel");
  }
  return { packages, files, commands, services: s.sentinel ? ["redis-server", "redis-sentinel"] : ["redis-server"] };
}

/** Redis: one node, or a master and replicas watched by Sentinel (quorum 2 of 3). */
export class RedisSentinel extends pulumi.ComponentResource {
  /** Where clients connect: the master (1 node) or the sentinels (Sentinel set). */
  public readonly endpoints: pulumi.Output<string>[];
  public readonly masterName: string;

  constructor(name: string, args: RedisSentinelArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:cache:RedisSentinel", name, {}, opts);
    validateRedisSentinelArgs(args);
    const nodes = args.nodes ?? 1;
    const role = args.role ?? "cache";
    this.masterName = `${args.stack}-redis`;
    const addresses = args.machines.fixedIps ?? [];
    const fleet = new VpsFleet(
      `${name}-nodes`,
      {
        role,
        count: nodes,
        phase: args.phase,
        stack: args.stack,
        variant: args.machines.variant,
        offer: args.machines.offer,
        networkId: args.machines.networkId,
        fixedIps: args.machines.fixedIps,
        securityGroups: args.machines.securityGroups,
        sshPublicKey: args.machines.sshPublicKey,
        sshJump: args.machines.sshJump,
        hostFirewall: args.machines.hostFirewall,
        userData: Array.from({ length: nodes }, (_, i) =>
          pulumi.output(args.password).apply((password) =>
            bundleToCloudInit(
              machineName(args.stack, role, i),
              withNodeExporter(
                redisNodeBundle({
                  index: i,
                  addresses,
                  password,
                  maxmemory: args.maxmemory ?? "1gb",
                  maxmemoryPolicy: args.maxmemoryPolicy ?? "allkeys-lru",
                  masterName: this.masterName,
                  sentinel: args.sentinel
                    ? {
                        quorum: args.quorum ?? 2,
                        downAfterMs: args.downAfterMs ?? 1500,
                        failoverTimeoutMs: args.failoverTimeoutMs ?? 60000,
                      }
                    : undefined,
                }),
                args.nodeExporter,
              ),
            ),
          ),
        ),
      },
      { parent: this },
    );
    this.endpoints = fleet.addresses.map((a) => a.apply((h) => `${h}:${args.sentinel ? ports.sentinel : ports.redis}`));
    this.registerOutputs({ endpoints: this.endpoints, masterName: this.masterName });
  }
}
