import * as pulumi from "@pulumi/pulumi";
import { bundleToCloudInit } from "./config/bundle";
import { ChartRelease, EntrySettings, entryCharts, entryObjects, IngressController } from "./config/k8sEntry";
import { BACKEND_SERVICE_PORT, helmChartObjects, K8sObject, roadmapCharts, workloadObjects } from "./config/k8sWorkload";
import { DEFAULT_REGION } from "../lib/defaults";
import { machineName } from "./labels";
import { K3sPlatformArgs, K8sPlatformArgs, MksPlatformArgs, validateK8sPlatformArgs } from "./k8sPlatformArgs";
import { k3sNodeBundle } from "./config/k3sNode";
import { VpsFleet } from "./vpsFleet";

/** OVH limits anti-affinity node pools to 5 nodes. */
export const MAX_ANTI_AFFINITY_NODES = 5;

/** Kubernetes: OVH Managed Kubernetes or K3s on instances; then the backend workload, HPA, PDB, NetworkPolicies. */
export class K8sPlatform extends pulumi.ComponentResource {
  public readonly kubeconfig?: pulumi.Output<string>;
  public readonly apiEndpoint: pulumi.Output<string>;
  /**
   * Where the cluster's pods reach the internet from (K3s: its nodes' public addresses, their default route; flannel
   * masquerades pod traffic), e.g. what a previous phase's database lets in while a migration replicates into the
   * cluster's database. Empty for OVH's managed Kubernetes (its nodes leave through the network's gateway).
   */
  public readonly egressAddresses: pulumi.Output<string[]>;
  /** The address of the ingress controller's Service of type LoadBalancer (OVH's managed one), once the cloud gave it one. */
  public readonly entryAddress?: pulumi.Output<string>;

  constructor(name: string, args: K8sPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:k8s:K8sPlatform", name, {}, opts);
    validateK8sPlatformArgs(args);
    switch (args.variant) {
      case "ovh-mks":
        [this.apiEndpoint, this.kubeconfig, this.entryAddress] = this.mks(name, args);
        this.egressAddresses = pulumi.output([]);
        break;
      case "k3s":
        [this.apiEndpoint, this.egressAddresses] = this.k3s(name, args);
        break;
      default: {
        const unreachable: never = args;
        this.apiEndpoint = unreachable;
        this.egressAddresses = unreachable;
      }
    }
    this.registerOutputs({ apiEndpoint: this.apiEndpoint });
  }

  private mks(name: string, args: MksPlatformArgs): [pulumi.Output<string>, pulumi.Output<string>, pulumi.Output<string> | undefined] {
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
      if (args.apiAllowList) {
        new ovh.cloudproject.KubeIpRestrictions(
          `${name}-api-restrictions`,
          { serviceName: args.cloudProject, kubeId: cluster.id, ips: pulumi.output(args.apiAllowList).apply((ips) => [...ips]) },
          { parent: this },
        );
      }
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
        const controller: IngressController = { kind: "traefik-chart", loadBalancerFlavor: args.loadBalancerFlavor ?? "small" };
        const entrySettings = this.entrySettings(args, controller);
        // The charts first (Helm releases of the provider): cert-manager's CRDs before its ClusterIssuer, Traefik's
        // namespace before the Service in it.
        const releases = new Map<string, pulumi.Resource>();
        for (const c of [...entryCharts(entrySettings), ...roadmapCharts(args.helmReleases ?? [])]) {
          releases.set(c.name, this.helmRelease(k8s, name, c, provider));
        }
        const objects = [...workloadObjects(args.workload), ...entryObjects(entrySettings)];
        const nsObj = objects.find((o) => o.kind === "Namespace")!;
        const ns = new k8s.apiextensions.CustomResource(`${name}-namespace`, nsObj as never, { parent: this, provider });
        let entry: pulumi.Output<string> | undefined;
        for (const o of objects.filter((x) => x.kind !== "Namespace")) {
          const childName = `${name}-${o.kind.toLowerCase()}-${o.metadata.name}`;
          const after =
            o.kind === "ClusterIssuer"
              ? releases.get("cert-manager")
              : o.metadata.namespace === "traefik"
                ? releases.get("traefik")
                : undefined;
          const childOpts = { parent: this, provider, dependsOn: after ? [ns, after] : [ns] };
          if (o.kind === "Service" && (o as { spec?: { type?: string } }).spec?.type === "LoadBalancer") {
            // A key in the arguments is an output of the resource: `status` (sent as nothing) carries the address.
            const svc = new k8s.apiextensions.CustomResource(childName, { ...o, status: undefined } as never, childOpts);
            const status = (svc as unknown as { status: pulumi.Output<{ loadBalancer?: { ingress?: { ip?: string }[] } } | undefined> })
              .status;
            entry = status.apply((st) => st?.loadBalancer?.ingress?.[0]?.ip ?? "");
          } else new k8s.apiextensions.CustomResource(childName, o as never, childOpts);
        }
        return [cluster.url, kubeconfig, entry];
      }
      return [cluster.url, kubeconfig, undefined];
    }
  }

  /** The entry in front of the workload, in the workload's namespace. */
  private entrySettings(args: K8sPlatformArgs, controller: IngressController): EntrySettings {
    return {
      namespace: args.workload!.namespace,
      app: args.workload!.app,
      servicePort: BACKEND_SERVICE_PORT,
      controller,
      domain: args.entry?.domain,
      acme: args.entry?.acme,
    };
  }

  private helmRelease(
    k8s: typeof import("@pulumi/kubernetes"),
    name: string,
    c: ChartRelease,
    provider: pulumi.ProviderResource,
  ): pulumi.Resource {
    return new k8s.helm.v3.Release(
      `${name}-chart-${c.name}`,
      {
        name: c.name,
        chart: c.repo.startsWith("oci://") ? `${c.repo}/${c.chart}` : c.chart,
        repositoryOpts: c.repo.startsWith("oci://") ? undefined : { repo: c.repo },
        version: c.version,
        namespace: c.namespace,
        createNamespace: true,
        values: c.values,
        // A release that does not come up fails the update (instead of an entry without its controller).
        atomic: true,
      },
      { parent: this, provider },
    );
  }

  private k3s(name: string, args: K3sPlatformArgs): [pulumi.Output<string>, pulumi.Output<string[]>] {
    const region = args.region ?? DEFAULT_REGION;
    const k = args.k3s;
    const ha = k.servers > 1;
    const entry = args.workload ? this.entrySettings(args, { kind: "k3s-traefik" }) : undefined;
    const manifests: K8sObject[] = [
      ...helmChartObjects([...(entry ? entryCharts(entry) : []), ...roadmapCharts(args.helmReleases ?? [])]),
      ...(args.workload ? workloadObjects(args.workload) : []),
      ...(entry ? entryObjects(entry) : []),
    ];
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
        securityGroups: args.securityGroups?.servers,
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
    const nodes = [...servers.publicAddresses];
    if (k.agents > 0) {
      const agents = new VpsFleet(
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
          securityGroups: args.securityGroups?.agents,
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
      nodes.push(...agents.publicAddresses);
    }
    return [first.apply((a) => `https://${a}:6443`), pulumi.all(nodes)];
  }
}

export * from "./k8sPlatformArgs";
export { k3sNodeBundle } from "./config/k3sNode";
