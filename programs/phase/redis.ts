import * as pulumi from "@pulumi/pulumi";
import { RedisSentinel } from "../../components/redisSentinel";
import { deriveSecret } from "../settings";
import { Declared, nothingDeclared, PhaseContext } from "./context";
import { machineOptions, NetworkParts } from "./network";

export interface DeclaredRedis extends Declared {
  readonly redis?: RedisSentinel;
}

/** The role whose fleet Redis declares itself. */
export function redisClaims(ctx: PhaseContext): string[] {
  const redis = ctx.topology.redis;
  return redis && !redis.inCluster ? [redis.role] : [];
}

/** Redis on the machines of its role: one node, or three with Sentinel (the fleet's count is the node count). */
export function declareRedis(ctx: PhaseContext, net: NetworkParts): DeclaredRedis {
  const spec = ctx.topology.redis;
  if (!spec || spec.inCluster) return nothingDeclared;
  const fleet = ctx.requireFleet(spec.role, "redis.role");
  const redis = new RedisSentinel(
    "redis",
    {
      ...ctx.common,
      role: fleet.role,
      nodes: fleet.count,
      sentinel: spec.sentinel,
      quorum: spec.quorum,
      password: ctx.settings.redisPassword ?? deriveSecret(ctx.settings.dbPassword, "redis"),
      // Redis keeps 40 % of the machine for the system, fork-on-save and the node exporter.
      maxmemory: `${Math.max(1, Math.floor(fleet.size.ramGb * 0.6))}gb`,
      maxmemoryPolicy: spec.maxmemoryPolicy,
      nodeExporter: !!ctx.topology.monitoring,
      machines: { ...machineOptions(ctx, net, fleet), fixedIps: ctx.fixedIps(fleet.role, fleet.count) },
    },
    ctx.rootOpts,
  );
  const addresses = redis.endpoints.map((e) => e.apply((x) => x.split(":")[0]));
  return { redis, machines: { [fleet.role]: ctx.machineNames(fleet.role, fleet.count) }, scrape: [{ role: fleet.role, addresses }] };
}

export function redisOutput(redis?: RedisSentinel): { endpoints: pulumi.Output<string>[]; masterName: string } | undefined {
  return redis ? { endpoints: redis.endpoints, masterName: redis.masterName } : undefined;
}
