import * as pulumi from "@pulumi/pulumi";
import { MachineOptions } from "../../components/machines";
import { PrivateNetwork } from "../../components/privateNetwork";
import { Flow, flowRules, hostEgressRules, hostRules } from "../../components/flows";
import { isIpv4Address } from "../../components/cidr";
import { renderHostFirewall } from "../../components/config/hostFirewall";
import { ports } from "../../lib/defaults";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { SecurityGroups } from "../../components/securityGroups";
import { FleetSpec } from "../roadmaps";
import { PhaseContext } from "./context";
import { fencedByRole, phaseFlows, tieredZeroTrust } from "./flows";

/** The phase's private network and zero-trust security groups (absent on classic VPS phases). */
export interface NetworkParts {
  readonly network?: PrivateNetwork;
  readonly groups?: SecurityGroups;
  /** The groups are one per role (phases 2-3, K3s), not phase 4's tiers. */
  readonly byRole?: boolean;
}

/**
 * The phase's private network, and the security groups of its Public Cloud instances: phase 4's tiers (the seed's
 * rules), or one group per role generated from the phase's flows. `jumpRole` relays SSH to the other machines.
 */
export function declareNetwork(ctx: PhaseContext, jumpRole?: string): NetworkParts {
  const spec = ctx.topology.network;
  const { stack, region } = ctx.common;
  if (fencedByRole(ctx.topology)) {
    const network = spec ? declarePrivateNetwork(ctx) : undefined;
    const sshAllowList = ctx.settings.sshAllowList;
    const groups = new SecurityGroups(
      "role-groups",
      {
        stack,
        region,
        sshAllowList,
        namePrefix: `${stack}-g${ctx.generation}`,
        rules: flowRules(phaseFlows(ctx.topology, ctx.settings, jumpRole), sshAllowList),
        migrationPeer: migrationPeer(ctx),
      },
      ctx.rootOpts,
    );
    return { network, groups, byRole: true };
  }
  if (!spec) return {};
  const network = declarePrivateNetwork(ctx);
  const sub = spec.subnets;
  if (!tieredZeroTrust(ctx.topology)) return { network };
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

/**
 * The next phase's database, let into this phase's database machines while a side-by-side migration replicates the
 * data (ProbatioVault 3 to 4: the managed database's subnet). One address: the fence opens no more than it names.
 */
function migrationPeer(ctx: PhaseContext) {
  const pg = ctx.topology.postgres;
  if (!ctx.migrationPeers || pg?.mode !== "self-managed" || !pg.primaryRole) return undefined;
  const address = ctx.migrationPeers.apply((peers) => {
    if (peers.length !== 1) {
      throw new ProbatioError(
        `the next phase's database connects out from ${peers.length} addresses (${peers.join(", ")}); the fence of this phase's database opens exactly one`,
        undefined,
        ExitCode.failure,
      );
    }
    return peers[0];
  });
  return { group: pg.primaryRole, port: ports.postgres, address };
}

function declarePrivateNetwork(ctx: PhaseContext): PrivateNetwork {
  const spec = ctx.topology.network!;
  const { stack, region } = ctx.common;
  return new PrivateNetwork(
    "network",
    {
      stack,
      vpcCidr: spec.vpcCidr,
      subnets: spec.subnets,
      natGateway: spec.natGateway,
      isolatedTiers: spec.isolatedTiers,
      cloudProject: ctx.settings.cloudProject,
      region,
    },
    ctx.rootOpts,
  );
}

/** The security group of a fleet's machines, if the phase fences them. */
function groupOf(ctx: PhaseContext, net: NetworkParts, role: string): string | undefined {
  if (!net.groups) return undefined;
  if (net.byRole) return net.groups.names[role] ? role : ctx.fail(`role '${role}' has no security group`);
  const tier = ctx.subnetOf(role);
  if (!tier) return undefined;
  const group = role === "cache" ? "cache" : tier;
  return net.groups.names[group] ? group : "backend";
}

/** The security group names of a fleet's machines (instances name their groups), if the phase fences them. */
export function groupsOf(ctx: PhaseContext, net: NetworkParts, role: string): string[] | undefined {
  const group = groupOf(ctx, net, role);
  return group ? [net.groups!.names[group]] : undefined;
}

/** The same group by id (network ports name groups by id). */
export function groupIdsOf(ctx: PhaseContext, net: NetworkParts, role: string): pulumi.Output<string>[] | undefined {
  const group = groupOf(ctx, net, role);
  return group ? [net.groups!.ids[group]] : undefined;
}

/** How the machines of a fleet are bought and attached: its offer, the SSH key, its network and security group. */
export function machineOptions(ctx: PhaseContext, net: NetworkParts, fleet: FleetSpec): MachineOptions {
  return {
    variant: fleet.variant,
    offer: fleet.offer,
    sshPublicKey: ctx.settings.sshPublicKey,
    sshJump: ctx.sshJump,
    networkId: fleet.variant === "public-cloud" && net.network ? net.network.networkId : undefined,
    securityGroups: groupsOf(ctx, net, fleet.role),
    securityGroupIds: groupIdsOf(ctx, net, fleet.role),
    hostFirewall: hostFirewallOf(ctx, fleet),
  };
}

/** The services of a data tier: a VPS that runs only these is sealed both ways (its egress filtered too). */
const DATA_TIER_SERVICES = ["postgresql", "redis"];

/**
 * The host firewall of a classic VPS fleet (no security groups there): the phase's flows into its role, the peers
 * named by their machines' addresses; while a migration replicates this phase's database into the next, the next
 * phase's database addresses on PostgreSQL's port. A data tier's machines also open only the flows out of their role
 * (DNS, NTP, the mirrors and Object Storage on 80/443), as a security group's egress rules do; the application's
 * and CI's machines keep an open egress (the releases, registries and Docker's traffic they fetch).
 */
function hostFirewallOf(ctx: PhaseContext, fleet: FleetSpec): pulumi.Output<string> | undefined {
  if (fleet.variant !== "ovh-vps" || !ctx.peerAddresses) return undefined;
  const flows = phaseFlows(ctx.topology, ctx.settings);
  const primary = ctx.topology.postgres?.primaryRole;
  return pulumi.all([ctx.peerAddresses, ctx.migrationPeers ?? []]).apply(([addresses, peers]) => {
    const migration: Flow[] = primary
      ? peers.map((p) => ({
          from: p.includes("/") ? p : `${p}/${isIpv4Address(p) ? 32 : 128}`,
          to: primary,
          protocol: "tcp",
          port: ports.postgres,
          why: "the next phase's database replicates from this one (migration)",
        }))
      : [];
    const sealed = fleet.services.every((x) => DATA_TIER_SERVICES.includes(x));
    return renderHostFirewall(
      fleet.role,
      hostRules([...flows, ...migration], fleet.role, addresses, ctx.settings.sshAllowList),
      sealed ? hostEgressRules(flows, fleet.role, addresses) : undefined,
    );
  });
}

/** The stack output describing the network. */
export function networkOutput(ctx: PhaseContext, net: NetworkParts) {
  return net.network ? { networkId: net.network.networkId, subnets: ctx.topology.network!.subnets } : undefined;
}
