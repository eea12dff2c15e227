import { MachineOptions } from "../../components/machines";
import { PrivateNetwork } from "../../components/privateNetwork";
import { SecurityGroups } from "../../components/securityGroups";
import { FleetSpec } from "../roadmaps";
import { PhaseContext } from "./context";

/** The phase's private network and zero-trust security groups (absent on classic VPS phases). */
export interface NetworkParts {
  readonly network?: PrivateNetwork;
  readonly groups?: SecurityGroups;
}

export function declareNetwork(ctx: PhaseContext): NetworkParts {
  const spec = ctx.topology.network;
  if (!spec) return {};
  const { stack, region } = ctx.common;
  const network = new PrivateNetwork(
    "network",
    {
      stack,
      vpcCidr: spec.vpcCidr,
      subnets: spec.subnets,
      natGateway: spec.natGateway,
      cloudProject: ctx.settings.cloudProject,
      region,
    },
    ctx.rootOpts,
  );
  const sub = spec.subnets;
  if (!(spec.zeroTrust && sub.public && sub.backend && sub.database && sub.hsm)) return { network };
  const groups = new SecurityGroups(
    "security-groups",
    {
      stack,
      region,
      sshAllowList: ctx.settings.sshAllowList,
      tiers: { public: sub.public, backend: sub.backend, database: sub.database, hsm: sub.hsm },
    },
    ctx.rootOpts,
  );
  return { network, groups };
}

/** How the machines of a fleet are bought and attached: its offer, the SSH key, its network and security group. */
export function machineOptions(ctx: PhaseContext, net: NetworkParts, fleet: FleetSpec): MachineOptions {
  const tier = ctx.subnetOf(fleet.role);
  const groupName = (names: Record<string, string>) => names[fleet.role === "cache" ? "cache" : tier!] ?? names.backend;
  return {
    variant: fleet.variant,
    offer: fleet.offer,
    sshPublicKey: ctx.settings.sshPublicKey,
    sshJump: ctx.sshJump,
    networkId: fleet.variant === "public-cloud" && net.network ? net.network.networkId : undefined,
    securityGroups: net.groups && tier ? [groupName(net.groups.names)] : undefined,
  };
}

/** The stack output describing the network. */
export function networkOutput(ctx: PhaseContext, net: NetworkParts) {
  return net.network ? { networkId: net.network.networkId, subnets: ctx.topology.network!.subnets } : undefined;
}
