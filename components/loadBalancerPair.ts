import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_HEALTH_CHECK, DEFAULT_REGION, ports } from "../lib/defaults";
import { bundleToCloudInit } from "./config/bundle";
import { haproxyNodeBundle } from "./config/haproxyNode";
import { parseCidr } from "./cidr";
import { machineName } from "./labels";
import { MachineOptions } from "./machines";
import { ArgumentError } from "./validation";
import { VpsFleet } from "./vpsFleet";

/** A backend server (its address may be an output). */
export interface LoadBalancerBackend {
  readonly name: string;
  readonly address: pulumi.Input<string>;
  readonly port: number;
}

/** The private network a load balancer sits on: network id, subnet id and CIDR. */
export interface LoadBalancerNetwork {
  readonly networkId: pulumi.Input<string>;
  readonly subnetId: pulumi.Input<string>;
  readonly cidr: string;
}

interface LoadBalancerCommonArgs {
  /** Stack name (resource names). */
  readonly stack: string;
  /** Phase (machine labels). */
  readonly phase: number;
  /** Backend servers; at least one. */
  readonly backends: readonly LoadBalancerBackend[];
  /**
   * OVH region.
   * @default "GRA11"
   */
  readonly region?: string;
}

/** HAProxy on our own nodes: one, or two sharing a keepalived VRRP virtual IP (phases 2-3). */
export interface HaproxyLoadBalancerArgs extends LoadBalancerCommonArgs {
  readonly variant: "haproxy";
  /**
   * HAProxy nodes: 1, or 2 sharing a VRRP virtual IP.
   * @default 1
   */
  readonly nodes?: number;
  /** The nodes' machines (flavour, SSH key, security groups). */
  readonly machines: MachineOptions;
  /**
   * Health check path on the backends.
   * @default "/health"
   */
  readonly healthPath?: string;
  /**
   * Health checks: interval (ms), failures before a backend is out, successes before it is back.
   * @default { intervalMs: 2000, fall: 3, rise: 2 }
   */
  readonly healthCheck?: { readonly intervalMs: number; readonly fall: number; readonly rise: number };
  /**
   * Private network; required for 2 nodes.
   * @default none (public network only)
   */
  readonly network?: LoadBalancerNetwork;
  /**
   * The virtual IP (2 nodes), inside `network.cidr`.
   * @default none
   */
  readonly virtualIp?: string;
  /**
   * Private address of each node, inside `network.cidr`; required for 2 nodes.
   * @default DHCP
   */
  readonly nodeIps?: readonly string[];
  /**
   * VRRP virtual router id (1-255) and password (secret); required for 2 nodes.
   * @default none
   */
  readonly vrrp?: { readonly routerId: number; readonly authPass: pulumi.Input<string> };
  /**
   * Role label of the nodes.
   * @default "lb"
   */
  readonly role?: string;
  /**
   * Public domain served (SNI of the migration slot's health checks).
   * @default none
   */
  readonly domain?: string;
}

/** OVH's managed (Octavia) load balancer with a floating IP (phase 4 outside Kubernetes). */
export interface ManagedLoadBalancerArgs extends LoadBalancerCommonArgs {
  readonly variant: "managed";
  /** Private network of the load balancer's VIP and members. */
  readonly network: LoadBalancerNetwork;
  /**
   * Octavia flavour id.
   * @default the region's default flavour
   */
  readonly managedFlavorId?: pulumi.Input<string>;
}

export type LoadBalancerPairArgs = HaproxyLoadBalancerArgs | ManagedLoadBalancerArgs;

export function validateLoadBalancerPairArgs(args: LoadBalancerPairArgs): void {
  if (args.backends.length === 0) throw new ArgumentError("LoadBalancerPair", "backends", "must list at least one backend");
  switch (args.variant) {
    case "managed":
      if (!args.network) throw new ArgumentError("LoadBalancerPair", "network", "is required for the managed load balancer");
      return;
    case "haproxy":
      return validateHaproxy(args);
    default: {
      const unreachable: never = args;
      throw new ArgumentError(
        "LoadBalancerPair",
        "variant",
        `is unknown (${JSON.stringify((unreachable as { variant: unknown }).variant)})`,
      );
    }
  }
}

function validateHaproxy(args: HaproxyLoadBalancerArgs): void {
  const nodes = args.nodes ?? 1;
  if (nodes !== 1 && nodes !== 2) throw new ArgumentError("LoadBalancerPair", "nodes", `must be 1 or 2 (got ${nodes})`);
  if (!args.machines) throw new ArgumentError("LoadBalancerPair", "machines", "is required for HAProxy nodes");
  const check = args.healthCheck ?? DEFAULT_HEALTH_CHECK;
  if (!Number.isInteger(check.intervalMs) || check.intervalMs < 100) {
    throw new ArgumentError("LoadBalancerPair", "healthCheck.intervalMs", `must be at least 100 ms (got ${check.intervalMs})`);
  }
  if (nodes === 2) {
    if (!args.network) throw new ArgumentError("LoadBalancerPair", "network", "is required for a VRRP pair");
    if (!args.vrrp) throw new ArgumentError("LoadBalancerPair", "vrrp", "is required for a VRRP pair");
    if (!Number.isInteger(args.vrrp.routerId) || args.vrrp.routerId < 1 || args.vrrp.routerId > 255) {
      throw new ArgumentError("LoadBalancerPair", "vrrp.routerId", `must be 1-255 (got ${args.vrrp.routerId})`);
    }
    const subnet = parseCidr(args.network.cidr);
    for (const ip of [args.virtualIp, ...(args.nodeIps ?? [])]) {
      if (!ip || !subnet || !new (require("ip-address").Address4)(ip).isInSubnet(subnet)) {
        throw new ArgumentError("LoadBalancerPair", "virtualIp", `and nodeIps must be addresses inside ${args.network.cidr} (got ${ip})`);
      }
    }
    if (args.nodeIps?.length !== 2) throw new ArgumentError("LoadBalancerPair", "nodeIps", "must give the two nodes' addresses");
  }
}

export class LoadBalancerPair extends pulumi.ComponentResource {
  /** The address clients reach (public IP / floating IP). */
  public readonly address: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerPairArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:network:LoadBalancerPair", name, {}, opts);
    validateLoadBalancerPairArgs(args);
    switch (args.variant) {
      case "managed":
        this.address = this.managed(name, args);
        break;
      case "haproxy":
        this.address = this.haproxy(name, args);
        break;
      default: {
        const unreachable: never = args;
        this.address = unreachable;
      }
    }
    this.registerOutputs({ address: this.address });
  }

  private managed(name: string, args: ManagedLoadBalancerArgs): pulumi.Output<string> {
    const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
    const region = args.region ?? DEFAULT_REGION;
    {
      const net = args.network;
      const lb = new openstack.loadbalancer.LoadBalancer(
        `${name}-octavia`,
        {
          name: `${args.stack}-lb`,
          vipSubnetId: net.subnetId,
          flavorId: args.managedFlavorId,
          region,
        },
        { parent: this },
      );
      const fip = new openstack.networking.FloatingIp(`${name}-fip`, { pool: "Ext-Net", portId: lb.vipPortId, region }, { parent: this });
      for (const port of [ports.http, ports.https]) {
        const listener = new openstack.loadbalancer.Listener(
          `${name}-listener-${port}`,
          {
            loadbalancerId: lb.id,
            protocol: "TCP",
            protocolPort: port,
            region,
          },
          { parent: this },
        );
        const pool = new openstack.loadbalancer.Pool(
          `${name}-pool-${port}`,
          {
            listenerId: listener.id,
            protocol: "TCP",
            lbMethod: "ROUND_ROBIN",
            region,
          },
          { parent: this },
        );
        new openstack.loadbalancer.Monitor(
          `${name}-monitor-${port}`,
          {
            poolId: pool.id,
            type: "TCP",
            delay: 5,
            timeout: 3,
            maxRetries: 3,
            maxRetriesDown: 3,
            region,
          },
          { parent: this },
        );
        new openstack.loadbalancer.Members(
          `${name}-members-${port}`,
          {
            poolId: pool.id,
            region,
            members: args.backends.map((b) => ({
              name: b.name,
              address: b.address,
              protocolPort: port === ports.https ? b.port : ports.http,
              subnetId: net.subnetId,
            })),
          },
          { parent: this },
        );
      }
      return fip.address;
    }
  }

  private haproxy(name: string, args: HaproxyLoadBalancerArgs): pulumi.Output<string> {
    const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
    const region = args.region ?? DEFAULT_REGION;
    const role = args.role ?? "lb";
    const healthPath = args.healthPath ?? "/health";
    const healthCheck = args.healthCheck ?? DEFAULT_HEALTH_CHECK;
    const nodes = args.nodes ?? 1;
    const m = args.machines;
    const backendAddresses = pulumi.all(args.backends.map((b) => b.address));
    const statsAddress = nodes === 2 ? undefined : "127.0.0.1";
    let ports: pulumi.Output<string>[] | undefined;
    let vipAddress: pulumi.Output<string> | undefined;
    if (nodes === 2) {
      const net = args.network!;
      // The VIP is a port nobody owns; each node's port may claim its address (allowed address pair).
      const vip = new openstack.networking.Port(
        `${name}-vip`,
        {
          name: `${args.stack}-lb-vip`,
          networkId: net.networkId,
          fixedIps: [{ subnetId: net.subnetId, ipAddress: args.virtualIp! }],
          region,
          adminStateUp: true,
        },
        { parent: this },
      );
      ports = args.nodeIps!.map(
        (ip, i) =>
          new openstack.networking.Port(
            `${name}-port-${i + 1}`,
            {
              name: `${machineName(args.stack, role, i)}-private`,
              networkId: net.networkId,
              fixedIps: [{ subnetId: net.subnetId, ipAddress: ip }],
              allowedAddressPairs: [{ ipAddress: args.virtualIp! }],
              securityGroupIds: m.securityGroups ? [...m.securityGroups] : undefined,
              region,
            },
            { parent: this },
          ).id,
      );
      const fip = new openstack.networking.FloatingIp(
        `${name}-fip`,
        { pool: "Ext-Net", region, description: `${args.stack} load balancer VIP` },
        { parent: this },
      );
      new openstack.networking.FloatingIpAssociate(
        `${name}-fip-vip`,
        { floatingIp: fip.address, portId: vip.id, region },
        { parent: this },
      );
      vipAddress = fip.address;
    }
    const fleet = new VpsFleet(
      `${name}-nodes`,
      {
        role,
        count: nodes,
        phase: args.phase,
        stack: args.stack,
        offer: m.offer,
        region,
        ports,
        publicNetwork: nodes === 1,
        sshPublicKey: m.sshPublicKey,
        networkId: nodes === 1 ? args.network?.networkId : undefined,
        fixedIps: nodes === 1 && args.network && args.nodeIps ? [args.nodeIps[0]] : undefined,
        securityGroups: nodes === 1 ? m.securityGroups : undefined,
        userData: Array.from({ length: nodes }, (_, i) =>
          pulumi.all([backendAddresses, args.vrrp?.authPass ?? ""]).apply(([addrs, authPass]) =>
            bundleToCloudInit(
              machineName(args.stack, role, i),
              haproxyNodeBundle({
                index: i,
                backends: args.backends.map((b, j) => ({ name: b.name, address: addrs[j], port: b.port })),
                healthPath,
                healthCheck,
                statsAddress: args.nodeIps?.[i] ?? statsAddress ?? "127.0.0.1",
                domain: args.domain,
                vrrp:
                  nodes === 2
                    ? {
                        routerId: args.vrrp!.routerId,
                        authPass,
                        virtualIp: args.virtualIp!,
                        prefixLength: Number(args.network!.cidr.split("/")[1]),
                        nodeIps: args.nodeIps!,
                      }
                    : undefined,
              }),
            ),
          ),
        ),
      },
      { parent: this },
    );
    return vipAddress ?? fleet.addresses[0];
  }
}
