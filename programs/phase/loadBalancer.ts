import * as pulumi from "@pulumi/pulumi";
import { LoadBalancerPair } from "../../components/loadBalancerPair";
import { VpsFleet } from "../../components/vpsFleet";
import { DEFAULT_HAPROXY_MAXCONN, DEFAULT_HEALTH_CHECK, DEFAULT_VRRP_ROUTER_ID } from "../../lib/defaults";
import { roleAddresses } from "../addressPlan";
import { getRoadmap, HaproxyLoadBalancerSpec, ManagedLoadBalancerSpec } from "../roadmaps";
import { deriveSecret } from "../settings";
import { Declared, nothingDeclared, PhaseContext } from "./context";
import { groupIdsOf, groupsOf, NetworkParts } from "./network";

export interface DeclaredLoadBalancer extends Declared {
  /** The address clients reach. */
  readonly address?: pulumi.Output<string>;
}

/** The role whose fleet the load balancer declares itself. */
export function loadBalancerClaims(ctx: PhaseContext): string[] {
  const lb = ctx.topology.loadBalancer;
  return lb?.kind === "haproxy" ? [lb.role] : [];
}

/** The phase's entry point: HAProxy on machines of its own (1 node, or 2 with a VRRP address), or OVH's managed one. */
export function declareLoadBalancer(ctx: PhaseContext, net: NetworkParts, apps: ReadonlyMap<string, VpsFleet>): DeclaredLoadBalancer {
  const lb = ctx.topology.loadBalancer;
  if (!lb) return nothingDeclared;
  switch (lb.kind) {
    case "haproxy":
      return declareHaproxy(ctx, net, lb, apps);
    case "managed":
      return declareManaged(ctx, net, lb);
    default: {
      const unreachable: never = lb;
      return ctx.fail(`unknown load balancer ${JSON.stringify(unreachable)}`);
    }
  }
}

function declareHaproxy(
  ctx: PhaseContext,
  net: NetworkParts,
  lb: HaproxyLoadBalancerSpec,
  apps: ReadonlyMap<string, VpsFleet>,
): DeclaredLoadBalancer {
  const fleet = ctx.requireFleet(lb.role, "loadBalancer.role");
  const backends = apps.get(lb.backendRole) ?? ctx.fail(`loadBalancer.backendRole '${lb.backendRole}' has no fleet`);
  const tier = ctx.subnetOf(fleet.role);
  const subnets = ctx.topology.network?.subnets;
  const pair = fleet.count === 2;
  const nodeIps = ctx.fixedIps(fleet.role, fleet.count);
  const lbPair = new LoadBalancerPair(
    "lb",
    {
      ...ctx.common,
      variant: "haproxy",
      nodes: fleet.count,
      role: fleet.role,
      backends: backends.addresses.map((address, i) => ({ name: `${lb.backendRole}${i + 1}`, address, port: lb.backendPort })),
      healthCheck: lb.healthCheck ?? DEFAULT_HEALTH_CHECK,
      network:
        net.network && tier ? { networkId: net.network.networkId, subnetId: net.network.subnetIds[tier], cidr: subnets![tier] } : undefined,
      virtualIp: pair && tier ? roleAddresses(subnets![tier], "lb-vip", 1)[0] : undefined,
      nodeIps,
      vrrp: pair
        ? { routerId: lb.vrrpRouterId ?? DEFAULT_VRRP_ROUTER_ID, authPass: deriveSecret(ctx.settings.dbPassword, "vrrp") }
        : undefined,
      machines: {
        offer: fleet.offer,
        sshPublicKey: ctx.settings.sshPublicKey,
        sshJump: ctx.sshJump,
        securityGroups: groupsOf(ctx, net, fleet.role),
        securityGroupIds: groupIdsOf(ctx, net, fleet.role),
      },
      domain: ctx.settings.domain,
      acme: ctx.settings.acme,
      nodeExporter: !!ctx.topology.monitoring,
      maxConnections: maxConnections(ctx),
    },
    ctx.rootOpts,
  );
  return {
    address: lbPair.address,
    machines: { [fleet.role]: ctx.machineNames(fleet.role, fleet.count) },
    scrape: [{ role: fleet.role, addresses: nodeIps ?? [] }],
  };
}

/**
 * HAProxy's connection limit from the phase's targets (Little's law): the top of the seed's request rate times the
 * time a request may take before the roadmap's latency alert fires. Where the phase gives no rate, the default; the
 * operator's `lbMaxConnections` wins (a smaller node, or a machine whose file-descriptor limit is lower).
 */
export function maxConnections(ctx: PhaseContext): number {
  if (ctx.settings.lbMaxConnections) return ctx.settings.lbMaxConnections;
  const rate = ctx.phase.targets.requestsPerSecond?.max;
  return rate ? Math.ceil(rate * getRoadmap(ctx.phase.roadmap).alerts.latencySeconds) : DEFAULT_HAPROXY_MAXCONN;
}

function declareManaged(ctx: PhaseContext, net: NetworkParts, lb: ManagedLoadBalancerSpec): DeclaredLoadBalancer {
  // On OVH Managed Kubernetes the backend Service of type LoadBalancer creates it instead (see K8sPlatform).
  if (ctx.topology.k8s?.kind === "ovh-mks") return nothingDeclared;
  const tier = ctx.subnetOf(lb.backendRole) ?? ctx.fail("a managed load balancer needs a private network");
  const backendIps = ctx.fixedIps(lb.backendRole, ctx.fleet(lb.backendRole)?.count ?? 0) ?? [];
  const lbPair = new LoadBalancerPair(
    "lb",
    {
      ...ctx.common,
      variant: "managed",
      backends: backendIps.map((address, i) => ({ name: `${lb.backendRole}${i + 1}`, address, port: lb.backendPort })),
      network: { networkId: net.network!.networkId, subnetId: net.network!.subnetIds[tier], cidr: ctx.topology.network!.subnets[tier] },
    },
    ctx.rootOpts,
  );
  return { address: lbPair.address, machines: {}, scrape: [] };
}
