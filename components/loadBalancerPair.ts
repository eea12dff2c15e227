import * as pulumi from "@pulumi/pulumi";
import { bundleToCloudInit, ServiceBundle } from "./config/bundle";
import { HaproxyBackend, renderHaproxyCfg, renderKeepalivedConf } from "./config/haproxy";
import { parseCidr } from "./cidr";
import { machineName } from "./labels";
import { ArgumentError } from "./validation";
import { VpsFleet } from "./vpsFleet";

export const STATS_PORT = 8404;
/** HAProxy's runtime API on every node, bound to loopback: `probatio migrate` reaches it through an SSH tunnel. */
export const RUNTIME_API_PORT = 9999;

export interface LoadBalancerPairArgs {
  /** Stack name and phase. Required. */
  readonly stack: string;
  readonly phase: number;
  /** "haproxy" (our own nodes) or "managed" (OVH Octavia load balancer). Default "haproxy". */
  readonly variant?: "haproxy" | "managed";
  /** HAProxy nodes: 1, or 2 sharing a keepalived VRRP virtual IP. Default 1. */
  readonly nodes?: number;
  /** Backend servers (address may be an output). Required, at least one. */
  readonly backends: readonly { readonly name: string; readonly address: pulumi.Input<string>; readonly port: number }[];
  /** Health check path. Default "/health". */
  readonly healthPath?: string;
  /** Private network: network id, subnet id and CIDR. Required for 2 nodes and for managed. */
  readonly network?: { readonly networkId: pulumi.Input<string>; readonly subnetId: pulumi.Input<string>; readonly cidr: string };
  /** Private addresses: the VIP and one per node (2 nodes). */
  readonly virtualIp?: string;
  readonly nodeIps?: readonly string[];
  /** VRRP virtual router id (1-255) and password (secret). Required for 2 nodes. */
  readonly vrrp?: { readonly routerId: number; readonly authPass: pulumi.Input<string> };
  /** Node machines: flavour, key, security groups. Required for haproxy. */
  readonly machines?: { readonly offer: string; readonly securityGroups?: readonly pulumi.Input<string>[]; readonly sshPublicKey?: pulumi.Input<string> };
  /** Octavia flavour id (managed). Default the region's default flavour. */
  readonly managedFlavorId?: pulumi.Input<string>;
  /** Region. Default "GRA11". */
  readonly region?: string;
  /** Role label. Default "lb". */
  readonly role?: string;
  /** Public domain served (SNI of the migration slot's health checks). Optional. */
  readonly domain?: string;
}

export function validateLoadBalancerPairArgs(args: LoadBalancerPairArgs): void {
  const variant = args.variant ?? "haproxy";
  const nodes = args.nodes ?? 1;
  if (args.backends.length === 0) throw new ArgumentError("LoadBalancerPair", "backends", "must list at least one backend");
  if (variant === "managed") {
    if (!args.network) throw new ArgumentError("LoadBalancerPair", "network", "is required for the managed load balancer");
    return;
  }
  if (nodes !== 1 && nodes !== 2) throw new ArgumentError("LoadBalancerPair", "nodes", `must be 1 or 2 (got ${nodes})`);
  if (!args.machines) throw new ArgumentError("LoadBalancerPair", "machines", "is required for HAProxy nodes");
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

export interface HaproxyNodeSettings {
  readonly index: number;
  readonly backends: readonly HaproxyBackend[];
  readonly healthPath: string;
  readonly statsAddress: string;
  readonly domain?: string;
  readonly vrrp?: { readonly routerId: number; readonly authPass: string; readonly virtualIp: string; readonly prefixLength: number; readonly nodeIps: readonly string[] };
}

/** HAProxy (and keepalived for a pair) on node i. Pure. */
export function haproxyNodeBundle(s: HaproxyNodeSettings): ServiceBundle {
  const cert = "/etc/haproxy/certs/site.pem";
  const files = [{
    path: "/etc/haproxy/haproxy.cfg",
    content: renderHaproxyCfg({
      http: { address: "*", port: 80 }, https: { address: "*", port: 443, certPath: cert },
      backends: s.backends, healthPath: s.healthPath, checkIntervalMs: 2000, fall: 3, rise: 2,
      stats: { address: s.statsAddress, port: STATS_PORT }, maxconn: 20000,
      runtimeApi: { address: "127.0.0.1", port: RUNTIME_API_PORT }, migrationSlot: { tls: { sni: s.domain } },
    }),
  }];
  const commands = [
    // A self-signed certificate until the operator installs the real one, so HAProxy starts on first boot.
    `test -s ${cert} || (mkdir -p /etc/haproxy/certs && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=probatio -keyout /tmp/k.pem -out /tmp/c.pem && cat /tmp/c.pem /tmp/k.pem > ${cert} && rm /tmp/k.pem /tmp/c.pem)`,
    "systemctl restart haproxy",
  ];
  const packages = ["haproxy", "openssl"];
  if (s.vrrp) {
    packages.push("keepalived");
    files.push({
      path: "/etc/keepalived/keepalived.conf",
      content: renderKeepalivedConf({
        instance: "probatio_lb", interface: "ens3", state: s.index === 0 ? "MASTER" : "BACKUP", priority: s.index === 0 ? 150 : 100,
        virtualRouterId: s.vrrp.routerId, authPass: s.vrrp.authPass, virtualIp: s.vrrp.virtualIp, prefixLength: s.vrrp.prefixLength,
        unicastSrcIp: s.vrrp.nodeIps[s.index], unicastPeers: s.vrrp.nodeIps.filter((_, i) => i !== s.index),
        checkCommand: "/usr/bin/pgrep -x haproxy", checkIntervalSeconds: 1,
      }),
    });
    commands.push("systemctl restart keepalived");
  }
  return { packages, files, commands };
}

/** HAProxy on one node, two nodes sharing a VRRP virtual IP, or OVH's managed (Octavia) load balancer. */
export class LoadBalancerPair extends pulumi.ComponentResource {
  /** The address clients reach (public IP / floating IP). */
  public readonly address: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerPairArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:network:LoadBalancerPair", name, {}, opts);
    validateLoadBalancerPairArgs(args);
    const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
    const region = args.region ?? "GRA11";
    const role = args.role ?? "lb";
    const healthPath = args.healthPath ?? "/health";

    if ((args.variant ?? "haproxy") === "managed") {
      const net = args.network!;
      const lb = new openstack.loadbalancer.LoadBalancer(`${name}-octavia`, {
        name: `${args.stack}-lb`, vipSubnetId: net.subnetId, flavorId: args.managedFlavorId, region,
      }, { parent: this });
      const fip = new openstack.networking.FloatingIp(`${name}-fip`, { pool: "Ext-Net", portId: lb.vipPortId, region }, { parent: this });
      for (const port of [80, 443]) {
        const listener = new openstack.loadbalancer.Listener(`${name}-listener-${port}`, {
          loadbalancerId: lb.id, protocol: "TCP", protocolPort: port, region,
        }, { parent: this });
        const pool = new openstack.loadbalancer.Pool(`${name}-pool-${port}`, {
          listenerId: listener.id, protocol: "TCP", lbMethod: "ROUND_ROBIN", region,
        }, { parent: this });
        new openstack.loadbalancer.Monitor(`${name}-monitor-${port}`, {
          poolId: pool.id, type: "TCP", delay: 5, timeout: 3, maxRetries: 3, maxRetriesDown: 3, region,
        }, { parent: this });
        new openstack.loadbalancer.Members(`${name}-members-${port}`, {
          poolId: pool.id, region,
          members: args.backends.map((b) => ({ name: b.name, address: b.address, protocolPort: port === 443 ? b.port : 80, subnetId: net.subnetId })),
        }, { parent: this });
      }
      this.address = fip.address;
      this.registerOutputs({ address: this.address });
      return;
    }

    const nodes = args.nodes ?? 1;
    const m = args.machines!;
    const backendAddresses = pulumi.all(args.backends.map((b) => b.address));
    const statsAddress = nodes === 2 ? undefined : "127.0.0.1";
    let ports: pulumi.Output<string>[] | undefined;
    let vipAddress: pulumi.Output<string> | undefined;
    if (nodes === 2) {
      const net = args.network!;
      // The VIP is a port nobody owns; each node's port may claim its address (allowed address pair).
      const vip = new openstack.networking.Port(`${name}-vip`, {
        name: `${args.stack}-lb-vip`, networkId: net.networkId, fixedIps: [{ subnetId: net.subnetId, ipAddress: args.virtualIp! }],
        region, adminStateUp: true,
      }, { parent: this });
      ports = args.nodeIps!.map((ip, i) => new openstack.networking.Port(`${name}-port-${i + 1}`, {
        name: `${machineName(args.stack, role, i)}-private`, networkId: net.networkId,
        fixedIps: [{ subnetId: net.subnetId, ipAddress: ip }],
        allowedAddressPairs: [{ ipAddress: args.virtualIp! }],
        securityGroupIds: m.securityGroups ? [...m.securityGroups] : undefined,
        region,
      }, { parent: this }).id);
      const fip = new openstack.networking.FloatingIp(`${name}-fip`, { pool: "Ext-Net", region, description: `${args.stack} load balancer VIP` }, { parent: this });
      new openstack.networking.FloatingIpAssociate(`${name}-fip-vip`, { floatingIp: fip.address, portId: vip.id, region }, { parent: this });
      vipAddress = fip.address;
    }
    const fleet = new VpsFleet(`${name}-nodes`, {
      role, count: nodes, phase: args.phase, stack: args.stack, offer: m.offer, region,
      ports, publicNetwork: nodes === 1, sshPublicKey: m.sshPublicKey,
      networkId: nodes === 1 ? args.network?.networkId : undefined,
      fixedIps: nodes === 1 && args.network && args.nodeIps ? [args.nodeIps[0]] : undefined,
      securityGroups: nodes === 1 ? m.securityGroups : undefined,
      userData: Array.from({ length: nodes }, (_, i) => pulumi.all([backendAddresses, args.vrrp?.authPass ?? ""]).apply(([addrs, authPass]) =>
        bundleToCloudInit(machineName(args.stack, role, i), haproxyNodeBundle({
          index: i,
          backends: args.backends.map((b, j) => ({ name: b.name, address: addrs[j], port: b.port })),
          healthPath,
          statsAddress: args.nodeIps?.[i] ?? statsAddress ?? "127.0.0.1",
          domain: args.domain,
          vrrp: nodes === 2 ? {
            routerId: args.vrrp!.routerId, authPass, virtualIp: args.virtualIp!,
            prefixLength: Number(args.network!.cidr.split("/")[1]), nodeIps: args.nodeIps!,
          } : undefined,
        })))),
    }, { parent: this });
    this.address = vipAddress ?? fleet.addresses[0];
    this.registerOutputs({ address: this.address });
  }
}
