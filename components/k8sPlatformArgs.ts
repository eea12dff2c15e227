/** K8sPlatform's arguments, one interface per variant, and their validation. */
import * as pulumi from "@pulumi/pulumi";
import { WorkloadSettings } from "./config/k8sWorkload";
import { ArgumentError } from "./validation";

interface K8sPlatformCommonArgs {
  /** Stack name (resource names). */
  readonly stack: string;
  /** Phase (machine labels). */
  readonly phase: number;
  /**
   * OVH region.
   * @default "GRA11"
   */
  readonly region?: string;
  /**
   * The backend workload (Deployment, Service, HPA, PDB, NetworkPolicies).
   * @default none (cluster only)
   */
  readonly workload?: WorkloadSettings;
  /**
   * Helm releases (K3s: installed by its Helm controller; OVH Managed Kubernetes: Helm releases of the provider).
   * @default none
   */
  readonly helmReleases?: readonly string[];
  /**
   * The public entry in front of the workload (Traefik, TLS, the certificate by ACME with `acme`).
   * @default answers every name with Traefik's default certificate
   */
  readonly entry?: { readonly domain?: string; readonly acme?: { readonly email: string; readonly directory?: string } };
}

/** OVH Managed Kubernetes: the cluster on the private network, an anti-affinity node pool and an autoscaled one. */
export interface MksPlatformArgs extends K8sPlatformCommonArgs {
  readonly variant: "ovh-mks";
  /** OVH Public Cloud project id. */
  readonly cloudProject: pulumi.Input<string>;
  /**
   * Private network: nodes' and load balancers' subnets.
   * @default none (public nodes)
   */
  readonly network?: {
    readonly networkId: pulumi.Input<string>;
    readonly nodesSubnetId?: pulumi.Input<string>;
    readonly loadBalancersSubnetId?: pulumi.Input<string>;
  };
  /**
   * Node flavour and autoscaling bounds; the first min nodes (at most 5) form an anti-affinity pool.
   * @default { flavor: "b3-16", minNodes: 3, maxNodes: 50 }
   */
  readonly nodePool?: { readonly flavor: string; readonly minNodes: number; readonly maxNodes: number };
  /**
   * Kubernetes version.
   * @default "1.31"
   */
  readonly version?: string;
  /**
   * The flavor of OVH's load balancer in front of the ingress controller.
   * @default "small"
   */
  readonly loadBalancerFlavor?: string;
  /**
   * The only addresses (CIDRs) the API server answers (OVH's IP restrictions): the operator's, and the nodes' egress.
   * @default none (the API server answers any address; its clients still need the cluster's credentials)
   */
  readonly apiAllowList?: pulumi.Input<readonly string[]>;
}

/** K3s on Public Cloud instances: servers (embedded etcd when more than one) and agents. */
export interface K3sPlatformArgs extends K8sPlatformCommonArgs {
  readonly variant: "k3s";
  /** Servers (1, or an odd number for embedded etcd HA) and agents, their flavours, the join token and addresses. */
  readonly k3s: {
    readonly servers: number;
    readonly agents: number;
    readonly serverFlavor: string;
    readonly agentFlavor: string;
    readonly token: pulumi.Input<string>;
    readonly serverIps?: readonly string[];
    readonly agentIps?: readonly string[];
  };
  /**
   * The instances' private network.
   * @default none
   */
  readonly network?: { readonly networkId: pulumi.Input<string> };
  /**
   * SSH public key installed on the nodes.
   * @default none
   */
  readonly sshPublicKey?: pulumi.Input<string>;
  /**
   * Security group names of the servers and of the agents (they differ: only servers serve the API and etcd).
   * @default none
   */
  readonly securityGroups?: { readonly servers: readonly pulumi.Input<string>[]; readonly agents: readonly pulumi.Input<string>[] };
}

export type K8sPlatformArgs = MksPlatformArgs | K3sPlatformArgs;

export function validateK8sPlatformArgs(args: K8sPlatformArgs): void {
  if (args.variant !== "ovh-mks" && args.variant !== "k3s") {
    throw new ArgumentError(
      "K8sPlatform",
      "variant",
      `must be "ovh-mks" or "k3s" (got ${JSON.stringify((args as { variant?: unknown }).variant)})`,
    );
  }
  if (args.variant === "ovh-mks") {
    if (!args.cloudProject) throw new ArgumentError("K8sPlatform", "cloudProject", "is required for OVH Managed Kubernetes");
    const p = args.nodePool ?? { flavor: "b3-16", minNodes: 3, maxNodes: 50 };
    if (!Number.isInteger(p.minNodes) || p.minNodes < 1)
      throw new ArgumentError("K8sPlatform", "nodePool.minNodes", `must be at least 1 (got ${p.minNodes})`);
    if (p.maxNodes < p.minNodes)
      throw new ArgumentError("K8sPlatform", "nodePool.maxNodes", `must be >= minNodes (${p.minNodes}), got ${p.maxNodes}`);
    if (p.maxNodes > 100) throw new ArgumentError("K8sPlatform", "nodePool.maxNodes", `must be at most 100 (got ${p.maxNodes})`);
  } else {
    const k = args.k3s;
    if (!k) throw new ArgumentError("K8sPlatform", "k3s", "is required for the k3s variant");
    if (k.servers < 1 || (k.servers > 1 && k.servers % 2 === 0)) {
      throw new ArgumentError(
        "K8sPlatform",
        "k3s.servers",
        `must be 1, or an odd number (3, 5) for an embedded etcd quorum (got ${k.servers})`,
      );
    }
    if (k.agents < 0) throw new ArgumentError("K8sPlatform", "k3s.agents", `must be >= 0 (got ${k.agents})`);
    if (k.servers > 1 && k.serverIps?.length !== k.servers)
      throw new ArgumentError("K8sPlatform", "k3s.serverIps", "must give each server's private address for an HA cluster");
  }
  if (args.variant === "k3s") {
    // K3s's manifests are files in the server's user data: every value must be known when they are rendered.
    const unknown = (args.workload?.allow.egress ?? []).find((e) => typeof e.port !== "number");
    if (unknown) throw new ArgumentError("K8sPlatform", "workload.allow.egress", `'${unknown.description}' needs a port number on K3s`);
  }
  const h = args.workload?.hpa;
  if (h && (h.minPods < 1 || h.maxPods < h.minPods))
    throw new ArgumentError("K8sPlatform", "workload.hpa", `needs 1 <= minPods <= maxPods (got ${h.minPods}-${h.maxPods})`);
}
