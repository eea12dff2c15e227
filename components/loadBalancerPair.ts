import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_HAPROXY_MAXCONN, DEFAULT_HEALTH_CHECK, DEFAULT_REGION, ports, DEFAULT_HEALTH_PATH } from "../lib/defaults";
import { bundleToCloudInit } from "./config/bundle";
import { withNodeExporter } from "./config/nodeExporter";
import { haproxyNodeBundle } from "./config/haproxyNode";
import { machineName } from "./labels";
import {
  HaproxyLoadBalancerArgs,
  LoadBalancerPairArgs,
  ManagedLoadBalancerArgs,
  validateLoadBalancerPairArgs,
} from "./loadBalancerPairArgs";
import { VpsFleet } from "./vpsFleet";

/** HAProxy on one node, two nodes sharing a VRRP virtual IP, or OVH's managed (Octavia) load balancer. */
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
    const healthPath = args.healthPath ?? DEFAULT_HEALTH_PATH;
    const healthCheck = args.healthCheck ?? DEFAULT_HEALTH_CHECK;
    const nodes = args.nodes ?? 1;
    const m = args.machines;
    const backendAddresses = pulumi.all(args.backends.map((b) => b.address));
    const statsAddress = nodes === 2 ? undefined : "127.0.0.1";
    let ports: pulumi.Output<string>[] | undefined;
    let vipAddress: pulumi.Output<string> | undefined;
    // On a private network the nodes sit on ports of their own and clients reach a floating IP: on the VIP's port
    // for a pair, on the lone node's port otherwise. The entry address is the same floating IP from one node to two,
    // and the first node's port and machine stay as they are (only its port learns it may claim the VIP): the move
    // from one node to two (ProbatioVault 2-to-3) rebuilds nothing and leaves DNS alone.
    if (args.network && args.nodeIps) {
      const net = args.network;
      const vip =
        nodes === 2
          ? // The VIP is a port nobody owns; each node's port may claim its address (allowed address pair).
            new openstack.networking.Port(
              `${name}-vip`,
              {
                name: `${args.stack}-lb-vip`,
                networkId: net.networkId,
                securityGroupIds: m.securityGroupIds ? [...m.securityGroupIds] : undefined,
                fixedIps: [{ subnetId: net.subnetId, ipAddress: args.virtualIp! }],
                region,
                adminStateUp: true,
              },
              { parent: this },
            )
          : undefined;
      ports = args.nodeIps.slice(0, nodes).map(
        (ip, i) =>
          new openstack.networking.Port(
            `${name}-port-${i + 1}`,
            {
              name: `${machineName(args.stack, role, i)}-private`,
              networkId: net.networkId,
              fixedIps: [{ subnetId: net.subnetId, ipAddress: ip }],
              allowedAddressPairs: vip ? [{ ipAddress: args.virtualIp! }] : undefined,
              securityGroupIds: m.securityGroupIds ? [...m.securityGroupIds] : undefined,
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
      // Named for the VIP since phase 3 (a rename would move existing stacks); a lone node's port holds it before.
      new openstack.networking.FloatingIpAssociate(
        `${name}-fip-vip`,
        { floatingIp: fip.address, portId: vip ? vip.id : ports[0], region },
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
        publicNetwork: !ports,
        sshPublicKey: m.sshPublicKey,
        sshJump: m.sshJump,
        networkId: ports ? undefined : args.network?.networkId,
        // A pair's nodes sit on their ports, whose addresses are these: delivery and Prometheus reach them there.
        fixedIps: args.network && args.nodeIps ? args.nodeIps.slice(0, nodes) : undefined,
        securityGroups: ports ? undefined : m.securityGroups,
        userData: Array.from({ length: nodes }, (_, i) =>
          pulumi.all([backendAddresses, args.vrrp?.authPass ?? ""]).apply(([addrs, authPass]) =>
            bundleToCloudInit(
              machineName(args.stack, role, i),
              withNodeExporter(
                haproxyNodeBundle({
                  index: i,
                  backends: args.backends.map((b, j) => ({ name: b.name, address: addrs[j], port: b.port })),
                  healthPath,
                  healthCheck,
                  maxConnections: args.maxConnections ?? DEFAULT_HAPROXY_MAXCONN,
                  statsAddress: args.nodeIps?.[i] ?? statsAddress ?? "127.0.0.1",
                  domain: args.domain,
                  acme: args.acme,
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
                args.nodeExporter,
              ),
            ),
          ),
        ),
      },
      { parent: this },
    );
    return vipAddress ?? fleet.addresses[0];
  }
}

export * from "./loadBalancerPairArgs";
