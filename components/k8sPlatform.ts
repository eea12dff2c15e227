import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { bundleToCloudInit, ServiceBundle } from "./config/bundle";
import { helmChartObjects, K8sObject, workloadObjects, WorkloadSettings } from "./config/k8sWorkload";
import { DEFAULT_REGION } from "../lib/defaults";
import { machineName } from "./labels";
import { ArgumentError } from "./validation";
import { VpsFleet } from "./vpsFleet";

/** OVH limits anti-affinity node pools to 5 nodes. */
export const MAX_ANTI_AFFINITY_NODES = 5;

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
   * Helm releases (k3s: installed by K3s's Helm controller).
   * @default none
   */
  readonly helmReleases?: readonly string[];
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
   * Security group names of the nodes.
   * @default none
   */
  readonly securityGroups?: readonly pulumi.Input<string>[];
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
  const h = args.workload?.hpa;
  if (h && (h.minPods < 1 || h.maxPods < h.minPods))
    throw new ArgumentError("K8sPlatform", "workload.hpa", `needs 1 <= minPods <= maxPods (got ${h.minPods}-${h.maxPods})`);
}

export interface K3sNodeSettings {
  readonly kind: "server" | "agent";
  readonly token: string;
  /** Address of the first server (joins); undefined for the first server itself. */
  readonly firstServer?: string;
  readonly ha: boolean;
  /** Manifests the first server auto-deploys. */
  readonly manifests?: readonly K8sObject[];
}

/** K3s on a machine: first server (cluster-init when HA), joining servers, agents. Pure. */
export function k3sNodeBundle(s: K3sNodeSettings): ServiceBundle {
  const env = [`K3S_TOKEN='${s.token}'`];
  let exec: string;
  if (s.kind === "server") {
    exec = s.firstServer ? `server --server https://${s.firstServer}:6443` : s.ha ? "server --cluster-init" : "server";
    exec += " --secrets-encryption --write-kubeconfig-mode 0600";
  } else {
    exec = "agent";
    env.push(`K3S_URL='https://${s.firstServer}:6443'`);
  }
  const files =
    (s.manifests ?? []).length > 0
      ? [
          {
            path: "/var/lib/rancher/k3s/server/manifests/probatio.yaml",
            permissions: "0600",
            content: s.manifests!.map((m) => stringify(m)).join("---\n"),
          },
        ]
      : [];
  return {
    packages: ["curl"],
    files: [...files, { path: "/etc/probatio/k3s.env", permissions: "0600", content: env.join("\n") + "\n" }],
    commands: [`set -a; . /etc/probatio/k3s.env; set +a; curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC='${exec}' sh -`],
  };
}

/** Kubernetes: OVH Managed Kubernetes or K3s on instances; then the backend workload, HPA, PDB, NetworkPolicies. */
export class K8sPlatform extends pulumi.ComponentResource {
  public readonly kubeconfig?: pulumi.Output<string>;
  public readonly apiEndpoint: pulumi.Output<string>;

  constructor(name: string, args: K8sPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:k8s:K8sPlatform", name, {}, opts);
    validateK8sPlatformArgs(args);
    switch (args.variant) {
      case "ovh-mks":
        [this.apiEndpoint, this.kubeconfig] = this.mks(name, args);
        break;
      case "k3s":
        this.apiEndpoint = this.k3s(name, args);
        break;
      default: {
        const unreachable: never = args;
        this.apiEndpoint = unreachable;
      }
    }
    this.registerOutputs({ apiEndpoint: this.apiEndpoint });
  }

  private mks(name: string, args: MksPlatformArgs): [pulumi.Output<string>, pulumi.Output<string>] {
    const region = args.region ?? DEFAULT_REGION;
    {
      const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
      const k8s = require("@pulumi/kubernetes") as typeof import("@pulumi/kubernetes");
      const pool = args.nodePool ?? { flavor: "b3-16", minNodes: 3, maxNodes: 50 };
      const cluster = new ovh.cloudproject.Kube(
        `${name}-cluster`,
        {
          serviceName: args.cloudProject,
          name: `${args.stack}-k8s`,
          region,
          version: args.version ?? "1.31",
          privateNetworkId: args.network?.networkId,
          nodesSubnetId: args.network?.nodesSubnetId,
          loadBalancersSubnetId: args.network?.loadBalancersSubnetId,
          updatePolicy: "MINIMAL_DOWNTIME",
        },
        { parent: this },
      );
      // OVH caps anti-affinity pools at 5 nodes: the floor runs in an anti-affinity pool, the growth in an autoscaled one.
      const base = Math.min(pool.minNodes, MAX_ANTI_AFFINITY_NODES);
      new ovh.cloudproject.KubeNodePool(
        `${name}-base`,
        {
          serviceName: args.cloudProject,
          kubeId: cluster.id,
          name: "base",
          flavorName: pool.flavor,
          desiredNodes: base,
          minNodes: base,
          maxNodes: base,
          autoscale: false,
          antiAffinity: true,
          monthlyBilled: false,
        },
        { parent: this },
      );
      if (pool.maxNodes > base) {
        new ovh.cloudproject.KubeNodePool(
          `${name}-burst`,
          {
            serviceName: args.cloudProject,
            kubeId: cluster.id,
            name: "burst",
            flavorName: pool.flavor,
            desiredNodes: pool.minNodes - base,
            minNodes: pool.minNodes - base,
            maxNodes: pool.maxNodes - base,
            autoscale: true,
            antiAffinity: false,
          },
          { parent: this },
        );
      }
      const kubeconfig = pulumi.secret(cluster.kubeconfig);
      if (args.workload) {
        const provider = new k8s.Provider(`${name}-provider`, { kubeconfig, enableServerSideApply: true }, { parent: this });
        const objects = workloadObjects(args.workload);
        const created = new Map<string, pulumi.Resource>();
        const nsObj = objects.find((o) => o.kind === "Namespace")!;
        const ns = new k8s.apiextensions.CustomResource(`${name}-namespace`, nsObj as never, { parent: this, provider });
        created.set("Namespace", ns);
        for (const o of objects.filter((x) => x.kind !== "Namespace")) {
          new k8s.apiextensions.CustomResource(`${name}-${o.kind.toLowerCase()}-${o.metadata.name}`, o as never, {
            parent: this,
            provider,
            dependsOn: [ns],
          });
        }
      }
      return [cluster.url, kubeconfig];
    }
  }

  private k3s(name: string, args: K3sPlatformArgs): pulumi.Output<string> {
    const region = args.region ?? DEFAULT_REGION;
    const k = args.k3s;
    const ha = k.servers > 1;
    const manifests = [...helmChartObjects(args.helmReleases ?? []), ...(args.workload ? workloadObjects(args.workload) : [])];
    const network = args.network?.networkId;
    const servers = new VpsFleet(
      `${name}-servers`,
      {
        role: "k3s-server",
        count: k.servers,
        phase: args.phase,
        stack: args.stack,
        offer: k.serverFlavor,
        region,
        networkId: network,
        fixedIps: k.serverIps,
        publicNetwork: true,
        securityGroups: args.securityGroups,
        sshPublicKey: args.sshPublicKey,
        userData: Array.from({ length: k.servers }, (_, i) =>
          pulumi.output(k.token).apply((token) =>
            bundleToCloudInit(
              machineName(args.stack, "k3s-server", i),
              k3sNodeBundle({
                kind: "server",
                token,
                ha,
                firstServer: i === 0 ? undefined : k.serverIps![0],
                manifests: i === 0 ? manifests : undefined,
              }),
            ),
          ),
        ),
      },
      { parent: this },
    );
    const first = k.serverIps?.[0] ? pulumi.output(k.serverIps[0]) : servers.addresses[0];
    if (k.agents > 0) {
      new VpsFleet(
        `${name}-agents`,
        {
          role: "k3s-agent",
          count: k.agents,
          phase: args.phase,
          stack: args.stack,
          offer: k.agentFlavor,
          region,
          networkId: network,
          fixedIps: k.agentIps,
          publicNetwork: true,
          securityGroups: args.securityGroups,
          sshPublicKey: args.sshPublicKey,
          userData: Array.from({ length: k.agents }, (_, i) =>
            pulumi
              .all([k.token, first])
              .apply(([token, firstServer]) =>
                bundleToCloudInit(machineName(args.stack, "k3s-agent", i), k3sNodeBundle({ kind: "agent", token, ha, firstServer })),
              ),
          ),
        },
        { parent: this },
      );
    }
    return first.apply((a) => `https://${a}:6443`);
  }
}
