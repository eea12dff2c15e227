import * as pulumi from "@pulumi/pulumi";
import { byType, machineFiles, mock } from "../helpers";
import { K8sPlatform, validateK8sPlatformArgs } from "../../components/k8sPlatform";
import { workloadObjects } from "../../components/config/k8sWorkload";
import { parse } from "yaml";

const workload = {
  namespace: "probatio",
  app: "backend",
  image: "registry.example.com/backend:1.0.0",
  port: 3000,
  replicas: 3,
  hpa: { minPods: 3, maxPods: 50, cpuTargetPercent: 70 },
  resources: { cpuRequest: "250m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "512Mi" },
  loadBalancer: { flavor: "small" },
  allow: { ingressFrom: ["10.0.1.0/24"], egress: [{ cidr: "10.0.20.0/24", port: 5432, description: "PostgreSQL" }] },
};

describe("K8sPlatform", () => {
  test("OVH Managed Kubernetes: cluster on the private network, a 3-node anti-affinity pool and an autoscaled pool up to 50 nodes", async () => {
    const run = await mock(
      () =>
        new K8sPlatform("k8s", {
          stack: "prod",
          phase: 4,
          variant: "ovh-mks",
          cloudProject: "proj",
          network: { networkId: "net", nodesSubnetId: "backend", loadBalancersSubnetId: "public" },
          nodePool: { flavor: "b3-16", minNodes: 3, maxNodes: 50 },
          workload,
        }),
    );
    expect(byType(run, "ovh:CloudProject/kube:Kube")[0].inputs).toMatchObject({
      privateNetworkId: "net",
      nodesSubnetId: "backend",
      loadBalancersSubnetId: "public",
      region: "GRA11",
    });
    const pools = Object.fromEntries(byType(run, "ovh:CloudProject/kubeNodePool:KubeNodePool").map((p) => [p.inputs.name, p.inputs]));
    expect(pools.base).toMatchObject({ minNodes: 3, maxNodes: 3, antiAffinity: true, autoscale: false, flavorName: "b3-16" });
    expect(pools.burst).toMatchObject({ minNodes: 0, maxNodes: 47, autoscale: true, antiAffinity: false });
    const hpa = byType(run, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")[0];
    expect(hpa.inputs).toMatchObject({
      spec: { minReplicas: 3, maxReplicas: 50, metrics: [{ resource: { name: "cpu", target: { averageUtilization: 70 } } }] },
    });
    const svc = byType(run, "kubernetes:v1:Service")[0];
    expect(svc.inputs).toMatchObject({
      metadata: { annotations: { "loadbalancer.ovhcloud.com/flavor": "small" } },
      spec: { type: "LoadBalancer" },
    });
    expect(byType(run, "pulumi:providers:kubernetes")[0].inputs.kubeconfig).toBeDefined();
  });

  test("the workload: probes, resource limits, a PDB, and default-deny network policies with explicit allows", () => {
    const objs = workloadObjects(workload);
    const deploy = objs.find((o) => o.kind === "Deployment")!.spec as any;
    const c = deploy.template.spec.containers[0];
    expect(c.livenessProbe.httpGet).toEqual({ path: "/health", port: 3000 });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/health/ready", port: 3000 });
    expect(c.resources.limits).toEqual({ cpu: "1", memory: "512Mi" });
    expect((objs.find((o) => o.kind === "PodDisruptionBudget")!.spec as any).minAvailable).toBe(2);
    const deny = objs.find((o) => o.metadata.name === "default-deny-all")!.spec as any;
    expect(deny).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    const egress = objs.find((o) => o.metadata.name === "backend-egress")!.spec as any;
    expect(egress.egress[1]).toEqual({ to: [{ ipBlock: { cidr: "10.0.20.0/24" } }], ports: [{ protocol: "TCP", port: 5432 }] });
  });

  test("K3s HA: 3 servers with embedded etcd (first cluster-init, others join), agents join the first, Helm charts as manifests", async () => {
    const run = await mock(
      () =>
        new K8sPlatform("k8s", {
          stack: "prod",
          phase: 4,
          variant: "k3s",
          network: { networkId: "net" },
          helmReleases: ["longhorn", "kepler"],
          k3s: {
            servers: 3,
            agents: 3,
            serverFlavor: "b2-30",
            agentFlavor: "b2-30",
            token: pulumi.secret("tok"),
            serverIps: ["10.0.10.60", "10.0.10.61", "10.0.10.62"],
          },
        }),
    );
    expect(byType(run, "openstack:compute/instance:Instance")).toHaveLength(6);
    const ud = (fleet: string, i: number) => (run.componentOutputs[fleet].userData as string[])[i];
    expect(ud("k8s-servers", 0)).toContain("INSTALL_K3S_EXEC='server --cluster-init --secrets-encryption");
    expect(ud("k8s-servers", 1)).toContain("INSTALL_K3S_EXEC='server --server https://10.0.10.60:6443");
    expect(machineFiles(run, "k8s-agents", 2)["/etc/probatio/k3s.env"]).toContain("K3S_URL='https://10.0.10.60:6443'");
    const manifests = machineFiles(run, "k8s-servers", 0)["/var/lib/rancher/k3s/server/manifests/probatio.yaml"];
    const charts = manifests.split("---\n").map((d) => parse(d));
    expect(charts.map((c) => [c.kind, c.metadata.name])).toEqual([
      ["HelmChart", "longhorn"],
      ["HelmChart", "kepler"],
    ]);
  });

  test.each([
    [
      { variant: "k3s", k3s: { servers: 2, agents: 1, serverFlavor: "x", agentFlavor: "x", token: "t" } },
      "argument 'k3s.servers' must be 1, or an odd number",
    ],
    [{ variant: "k3s" }, "argument 'k3s' is required"],
    [{ nodePool: { flavor: "b3-16", minNodes: 5, maxNodes: 3 } }, "argument 'nodePool.maxNodes' must be >= minNodes (5), got 3"],
    [{ cloudProject: undefined }, "argument 'cloudProject' is required for OVH Managed Kubernetes"],
  ])("validation refuses %j", (bad, message) => {
    expect(() =>
      validateK8sPlatformArgs({ stack: "s", phase: 4, variant: "ovh-mks", cloudProject: "p", ...(bad as object) } as never),
    ).toThrow(message);
  });
});
