import { DEFAULT_REGION, ROUTER_INTERFACE_TAG } from "../lib/defaults";
import * as pulumi from "@pulumi/pulumi";
import { cidrContains, cidrsOverlap, hostAddress, parseCidr } from "./cidr";
import { ArgumentError } from "./validation";

export interface PrivateNetworkArgs {
  /** Stack name (resource names). */
  readonly stack: string;
  /**
   * The VPC range.
   * @default "10.0.0.0/16" (ProbatioVault phase 4)
   */
  readonly vpcCidr?: string;
  /**
   * Subnets by tier.
   * @default public 10.0.1.0/24, backend 10.0.10.0/24, database 10.0.20.0/24, hsm 10.0.30.0/24
   */
  readonly subnets?: Readonly<Record<string, string>>;
  /**
   * OVH gateway (router + NAT) for egress.
   * @default true
   */
  readonly natGateway?: boolean;
  /**
   * Gateway size ("s", "m", "l").
   * @default "s"
   */
  readonly gatewayModel?: string;
  /**
   * Tiers with no route to the internet (the seed's phase 4: the database and HSM subnets). Their subnet hands out no
   * default gateway; the gateway joins it on a port of the subnet's first address, which is the next hop of one route
   * per other tier (DHCP host routes): replies to the application find their way, nothing is routed to the internet.
   * Routes are not the fence (a machine could set its own): the tier's security group, with no egress rule, is.
   * @default none
   */
  readonly isolatedTiers?: readonly string[];
  /** OVH Public Cloud project id (gateway). when natGateway. */
  readonly cloudProject?: pulumi.Input<string>;
  /**
   * OpenStack region.
   * @default "GRA11"
   */
  readonly region?: string;
}

export const phase4Subnets = { public: "10.0.1.0/24", backend: "10.0.10.0/24", database: "10.0.20.0/24", hsm: "10.0.30.0/24" } as const;

export function validatePrivateNetworkArgs(args: PrivateNetworkArgs): void {
  const vpc = args.vpcCidr ?? "10.0.0.0/16";
  if (!parseCidr(vpc)) throw new ArgumentError("PrivateNetwork", "vpcCidr", `is not a CIDR (got '${vpc}')`);
  const subnets = Object.entries(args.subnets ?? phase4Subnets);
  if (subnets.length === 0) throw new ArgumentError("PrivateNetwork", "subnets", "must define at least one subnet");
  for (const [tier, cidr] of subnets) {
    if (!parseCidr(cidr)) throw new ArgumentError("PrivateNetwork", `subnets.${tier}`, `is not a CIDR (got '${cidr}')`);
    if (!cidrContains(vpc, cidr)) throw new ArgumentError("PrivateNetwork", `subnets.${tier}`, `(${cidr}) is not inside the VPC ${vpc}`);
  }
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      if (cidrsOverlap(subnets[i][1], subnets[j][1])) {
        throw new ArgumentError(
          "PrivateNetwork",
          `subnets.${subnets[j][0]}`,
          `(${subnets[j][1]}) overlaps subnets.${subnets[i][0]} (${subnets[i][1]})`,
        );
      }
    }
  }
  const tiers = subnets.map(([tier]) => tier);
  for (const tier of args.isolatedTiers ?? []) {
    if (!tiers.includes(tier))
      throw new ArgumentError("PrivateNetwork", "isolatedTiers", `names '${tier}', which is not a subnet (${tiers.join(", ")})`);
    if (tier === tiers[0])
      throw new ArgumentError(
        "PrivateNetwork",
        "isolatedTiers",
        `cannot hold '${tier}': the gateway's own subnet (the first) routes to the internet`,
      );
  }
  if ((args.natGateway ?? true) && !args.cloudProject)
    throw new ArgumentError("PrivateNetwork", "cloudProject", "is required for the NAT gateway");
}

/** A private network with one subnet per tier, routed by an OVH gateway that also gives NAT egress. */
export class PrivateNetwork extends pulumi.ComponentResource {
  public readonly networkId: pulumi.Output<string>;
  /** Subnet ids by tier. */
  public readonly subnetIds: Record<string, pulumi.Output<string>>;
  /** Subnet CIDRs by tier (plain values: rules and configs are rendered from them). */
  public readonly subnetCidrs: Readonly<Record<string, string>>;
  /** The public addresses the network's machines reach the internet from (the NAT gateway's); empty without one. */
  public readonly egressIps: pulumi.Output<string[]>;

  constructor(name: string, args: PrivateNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:network:PrivateNetwork", name, {}, opts);
    validatePrivateNetworkArgs(args);
    const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
    const region = args.region ?? DEFAULT_REGION;
    const subnets = args.subnets ?? phase4Subnets;
    this.subnetCidrs = subnets;
    const network = new openstack.networking.Network(
      `${name}-net`,
      {
        name: `${args.stack}-vpc`,
        region,
        adminStateUp: true,
        portSecurityEnabled: true,
      },
      { parent: this },
    );
    this.networkId = network.id;
    this.subnetIds = {};
    this.egressIps = pulumi.output([]);
    const tiers = Object.entries(subnets);
    const isolated = new Set(args.isolatedTiers ?? []);
    for (const [tier, cidr] of tiers) {
      const subnet = new openstack.networking.Subnet(
        `${name}-${tier}`,
        {
          name: `${args.stack}-${tier}`,
          networkId: network.id,
          cidr,
          ipVersion: 4,
          enableDhcp: true,
          region,
          dnsNameservers: ["213.186.33.99"],
          // An isolated tier: no default route handed out (its routes to the other tiers are below).
          ...(isolated.has(tier) ? { noGateway: true } : {}),
        },
        { parent: this },
      );
      this.subnetIds[tier] = subnet.id;
    }
    if (args.natGateway ?? true) {
      const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
      const [firstTier] = tiers[0];
      const gateway = new ovh.cloudproject.Gateway(
        `${name}-gateway`,
        {
          serviceName: args.cloudProject,
          name: `${args.stack}-gateway`,
          model: args.gatewayModel ?? "s",
          region,
          networkId: network.id,
          subnetId: this.subnetIds[firstTier],
        },
        { parent: this },
      );
      this.egressIps = gateway.externalInformations.apply((infos) => (infos ?? []).flatMap((x) => (x.ips ?? []).map((i) => i.ip)));
      // The OVH gateway is an OpenStack router: the other subnets join it as router interfaces, so tiers can
      // reach each other (security groups decide who may) and the backend reaches the internet through NAT.
      for (const [tier, cidr] of tiers.slice(1)) {
        if (!isolated.has(tier)) {
          new openstack.networking.RouterInterface(
            `${name}-gateway-${tier}`,
            { routerId: gateway.id, subnetId: this.subnetIds[tier], region },
            { parent: this },
          );
          continue;
        }
        // No gateway on the subnet: the router joins it on a port of the subnet's first address, the next hop of
        // a route to each tier that is not isolated (and to no other destination).
        const nextHop = hostAddress(cidr, 1);
        const port = new openstack.networking.Port(
          `${name}-gateway-${tier}-port`,
          {
            name: `${args.stack}-gateway-${tier}`,
            networkId: network.id,
            fixedIps: [{ subnetId: this.subnetIds[tier], ipAddress: nextHop }],
            adminStateUp: true,
            // A router's interface: OpenStack applies no security group to it, so it is declared with none.
            portSecurityEnabled: false,
            noSecurityGroups: true,
            tags: [ROUTER_INTERFACE_TAG],
            region,
          },
          { parent: this },
        );
        new openstack.networking.RouterInterface(
          `${name}-gateway-${tier}`,
          { routerId: gateway.id, portId: port.id, region },
          { parent: this },
        );
        for (const [other, otherCidr] of tiers.filter(([t]) => !isolated.has(t))) {
          new openstack.networking.SubnetRoute(
            `${name}-${tier}-to-${other}`,
            { subnetId: this.subnetIds[tier], destinationCidr: otherCidr, nextHop, region },
            { parent: this },
          );
        }
      }
    }
    this.registerOutputs({ networkId: this.networkId, subnetIds: this.subnetIds, subnetCidrs: this.subnetCidrs });
  }
}
