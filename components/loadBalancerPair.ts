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
        sshJump: m.sshJump,
        networkId: nodes === 1 ? args.network?.networkId : undefined,
        // A pair's nodes sit on their ports, whose addresses are these: delivery and Prometheus reach them there.
        fixedIps: args.network && args.nodeIps ? args.nodeIps.slice(0, nodes) : undefined,
        securityGroups: nodes === 1 ? m.securityGroups : undefined,
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
