/** LoadBalancerPair's arguments, one interface per variant, and their validation. */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_HEALTH_CHECK } from "../lib/defaults";
import { parseCidr } from "./cidr";
import { MachineOptions } from "./machines";
import { ArgumentError, requirePositiveInteger } from "./validation";

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
   * Concurrent client connections each HAProxy node accepts (global maxconn).
   * @default 20000
   */
  readonly maxConnections?: number;
  /**
   * Prometheus's node exporter on the machines (the phase is monitored).
   * @default false
   */
  readonly nodeExporter?: boolean;
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
  /**
   * The origin's certificate for `domain` by ACME (certbot, HTTP-01 through HAProxy's port 80), renewed by a timer;
   * without it HAProxy serves the certificate made at first boot. Each node of a pair asks for its own.
   * @default none
   */
  readonly acme?: { readonly email: string; readonly directory?: string };
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
  if (args.maxConnections !== undefined) requirePositiveInteger("LoadBalancerPair", "maxConnections", args.maxConnections, 1_000_000);
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
