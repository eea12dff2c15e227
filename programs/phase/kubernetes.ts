import * as pulumi from "@pulumi/pulumi";
import { controllerNamespace } from "../../components/config/k8sEntry";
import { helmCharts } from "../../components/config/k8sWorkload";
import { K8sPlatform } from "../../components/k8sPlatform";
import { ports } from "../../lib/defaults";
import { K3sSpec, MksSpec } from "../roadmaps";
import { deriveSecret } from "../settings";
import { Declared, nothingDeclared, PhaseContext } from "./context";
import { traefikAcme } from "./entryTls";
import { groupsOf, NetworkParts } from "./network";

export interface DeclaredKubernetes extends Declared {
  readonly output?: { apiEndpoint: pulumi.Output<string>; kubeconfig?: pulumi.Output<string> };
  /** Where the cluster's pods reach the internet from (K3s: its nodes' public addresses). */
  readonly egress?: pulumi.Output<string[]>;
  /** The backend Service's managed load balancer (OVH's managed Kubernetes): the phase's entry point. */
  readonly entry?: pulumi.Output<string>;
}

/** The roles whose fleets K3s declares itself. */
export function kubernetesClaims(ctx: PhaseContext): string[] {
  return ctx.topology.k8s?.kind === "k3s" ? ["k3s-server", "k3s-agent"] : [];
}

/**
 * The application's workload: image, resources, autoscaling, and the flows its NetworkPolicies allow.
 * `databasePort`: the port OVH's managed PostgreSQL listens on (its own, not 5432), once the service exists.
 */
function workload(ctx: PhaseContext, databasePort?: pulumi.Input<number>) {
  const { topology, settings } = ctx;
  const k = topology.k8s!;
  const sub = topology.network?.subnets ?? {};
  const egress = [
    ...(sub.database ? [{ cidr: sub.database, port: databasePort ?? ports.postgres, description: "PostgreSQL" }] : []),
    ...(sub.backend ? [{ cidr: sub.backend, port: ports.redis, description: "Redis" }] : []),
    ...(sub.hsm ? [{ cidr: sub.hsm, port: ports.hsm, description: "HSM" }] : []),
    // The data services the roadmap runs inside the cluster (KoproGo's K3s phases), reached in their namespaces.
    ...(k.helmReleases.includes("postgresql-ha")
      ? [{ namespace: helmCharts["postgresql-ha"].namespace, port: ports.postgres, description: "PostgreSQL (in the cluster)" }]
      : []),
    ...(k.helmReleases.includes("dragonfly")
      ? [{ namespace: helmCharts.dragonfly.namespace, port: ports.redis, description: "DragonflyDB (in the cluster)" }]
      : []),
    { cidr: "0.0.0.0/0", port: ports.https, description: "external APIs" },
  ];
  return {
    namespace: ctx.phase.roadmap,
    app: "backend",
    image: settings.backendImage ?? ctx.fail("backendImage is not set"),
    port: ports.backend,
    replicas: k.hpa?.minPods ?? 2,
    hpa: k.hpa,
    resources: { cpuRequest: "250m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "512Mi" },
    allow: {
      ingressNamespace: controllerNamespace(k.kind === "k3s" ? "k3s-traefik" : "traefik-chart"),
      egress,
    },
  };
}

/** The public entry in front of the workload: its name, and its certificate by ACME. */
function entry(ctx: PhaseContext) {
  return { domain: ctx.settings.domain, acme: traefikAcme(ctx.settings) };
}

export function declareKubernetes(ctx: PhaseContext, net: NetworkParts, databasePort?: pulumi.Input<number>): DeclaredKubernetes {
  const k = ctx.topology.k8s;
  if (!k) return nothingDeclared;
  switch (k.kind) {
    case "ovh-mks":
      return declareMks(ctx, net, k, databasePort);
    case "k3s":
      return declareK3s(ctx, net, k);
    default: {
      const unreachable: never = k;
      return ctx.fail(`unknown Kubernetes ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Who may reach the managed cluster's API server: the stack's allow-list (where the operator runs probatio and
 * kubectl from) and the nodes' egress (the NAT gateway's addresses). None without an allow-list: closing the API
 * to every address would lock probatio's own updates of the cluster out (`probatio up` warns about the allow-list).
 */
function mksApiAllowList(ctx: PhaseContext, net: NetworkParts): pulumi.Output<string[]> | undefined {
  const allow = ctx.settings.sshAllowList;
  if (allow.length === 0) return undefined;
  const egress = net.network?.egressIps ?? pulumi.output([] as string[]);
  return egress.apply((ips) => [...new Set([...allow, ...ips.map((ip) => (ip.includes("/") ? ip : `${ip}/32`))])]);
}

function declareMks(ctx: PhaseContext, net: NetworkParts, k: MksSpec, databasePort?: pulumi.Input<number>): DeclaredKubernetes {
  const network = net.network;
  const platform = new K8sPlatform(
    "k8s",
    {
      ...ctx.common,
      variant: "ovh-mks",
      cloudProject: ctx.settings.cloudProject,
      network: network
        ? { networkId: network.networkId, nodesSubnetId: network.subnetIds.backend, loadBalancersSubnetId: network.subnetIds.public }
        : undefined,
      nodePool: { flavor: k.nodeFlavor ?? "b3-16", minNodes: k.autoscale?.minNodes ?? 3, maxNodes: k.autoscale?.maxNodes ?? 3 },
      workload: workload(ctx, databasePort),
      helmReleases: k.helmReleases,
      entry: entry(ctx),
      loadBalancerFlavor: ctx.topology.loadBalancer?.kind === "managed" ? ctx.topology.loadBalancer.flavor : undefined,
      apiAllowList: mksApiAllowList(ctx, net),
    },
    ctx.rootOpts,
  );
  return {
    output: { apiEndpoint: platform.apiEndpoint, kubeconfig: platform.kubeconfig },
    entry: platform.entryAddress,
    machines: {},
    scrape: [],
  };
}

/** K3s: as many servers and agents as the `k3s-server` and `k3s-agent` fleets have machines. */
function declareK3s(ctx: PhaseContext, net: NetworkParts, k: K3sSpec): DeclaredKubernetes {
  const servers = ctx.requireFleet("k3s-server", "k3s");
  const agents = ctx.fleet("k3s-agent");
  const agentCount = agents?.count ?? 0;
  const platform = new K8sPlatform(
    "k8s",
    {
      ...ctx.common,
      variant: "k3s",
      network: net.network ? { networkId: net.network.networkId } : undefined,
      k3s: {
        servers: servers.count,
        agents: agentCount,
        serverFlavor: servers.offer,
        agentFlavor: agents?.offer ?? servers.offer,
        token: deriveSecret(ctx.settings.dbPassword, "k3s-token"),
        serverIps: ctx.fixedIps("k3s-server", servers.count),
        agentIps: agentCount > 0 ? ctx.fixedIps("k3s-agent", agentCount) : undefined,
      },
      workload: workload(ctx),
      helmReleases: k.helmReleases,
      entry: entry(ctx),
      sshPublicKey: ctx.settings.sshPublicKey,
      securityGroups: net.groups
        ? { servers: groupsOf(ctx, net, "k3s-server") ?? [], agents: agents ? (groupsOf(ctx, net, "k3s-agent") ?? []) : [] }
        : undefined,
    },
    ctx.rootOpts,
  );
  const machines: Record<string, string[]> = { "k3s-server": ctx.machineNames("k3s-server", servers.count) };
  if (agents) machines["k3s-agent"] = ctx.machineNames("k3s-agent", agentCount);
  return { output: { apiEndpoint: platform.apiEndpoint }, egress: platform.egressAddresses, machines, scrape: [] };
}
