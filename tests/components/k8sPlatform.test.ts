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
  allow: { ingressNamespace: "traefik", egress: [{ cidr: "10.0.20.0/24", port: 5432, description: "PostgreSQL" }] },
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
          entry: { domain: "api.example.com", acme: { email: "oncall@example.com" } },
          loadBalancerFlavor: "medium",
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
    // The backend's Service stays inside the cluster; OVH's load balancer is in front of Traefik.
    const services = Object.fromEntries(byType(run, "kubernetes:v1:Service").map((s) => [(s.inputs as any).metadata.name, s.inputs]));
    expect(services.backend).toMatchObject({ spec: { type: "ClusterIP", ports: [{ port: 80, targetPort: 3000 }] } });
    expect(services.traefik).toMatchObject({
      metadata: { namespace: "traefik", annotations: { "loadbalancer.ovhcloud.com/flavor": "medium" } },
      spec: {
        type: "LoadBalancer",
        selector: { "app.kubernetes.io/name": "traefik" },
        ports: [
          { port: 80, targetPort: "web" },
          { port: 443, targetPort: "websecure" },
        ],
      },
    });
    // Traefik and cert-manager from their vendors' charts, pinned, as Helm releases.
    const releases = Object.fromEntries(byType(run, "kubernetes:helm.sh/v3:Release").map((r) => [r.inputs.name, r.inputs]));
    expect(releases.traefik).toMatchObject({
      chart: "traefik",
      version: "33.2.1",
      repositoryOpts: { repo: "https://traefik.github.io/charts" },
    });
    expect(releases.traefik.values).toMatchObject({ deployment: { replicas: 2 }, service: { enabled: false } });
    expect(releases["cert-manager"]).toMatchObject({ version: "v1.16.2", namespace: "cert-manager", values: { crds: { enabled: true } } });
    // The Ingress names the host, the Secret cert-manager fills, and the issuer; the issuer solves HTTP-01 through Traefik.
    const ingress = byType(run, "kubernetes:networking.k8s.io/v1:Ingress")[0].inputs;
    expect(ingress).toMatchObject({
      metadata: { annotations: { "cert-manager.io/cluster-issuer": "probatio-acme" } },
      spec: {
        ingressClassName: "traefik",
        tls: [{ hosts: ["api.example.com"], secretName: "backend-tls" }],
        rules: [{ host: "api.example.com", http: { paths: [{ backend: { service: { name: "backend", port: { number: 80 } } } }] } }],
      },
    });
    expect((byType(run, "kubernetes:cert-manager.io/v1:ClusterIssuer")[0].inputs as any).spec.acme).toMatchObject({
      email: "oncall@example.com",
      server: "https://acme-v02.api.letsencrypt.org/directory",
      solvers: [{ http01: { ingress: { ingressClassName: "traefik" } } }],
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
    // Only the ingress controller's pods reach the backend's.
    const ingress = objs.find((o) => o.metadata.name === "backend-ingress")!.spec as any;
    expect(ingress.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "traefik" } } }],
        ports: [{ protocol: "TCP", port: 3000 }],
      },
    ]);
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

  test("K3s: its own Traefik is the entry: an Ingress for the backend, cert-manager's chart and issuer, the solver let in", async () => {
    const run = await mock(
      () =>
        new K8sPlatform("k8s", {
          stack: "prod",
          phase: 3,
          variant: "k3s",
          helmReleases: ["longhorn"],
          workload: { ...workload, allow: { ...workload.allow, ingressNamespace: "kube-system" } },
          entry: { domain: "api.example.com", acme: { email: "oncall@example.com", directory: "https://acme.test/dir" } },
          k3s: { servers: 1, agents: 0, serverFlavor: "b2-7", agentFlavor: "b2-7", token: pulumi.secret("tok") },
        }),
    );
    const manifests = machineFiles(run, "k8s-servers", 0)["/var/lib/rancher/k3s/server/manifests/probatio.yaml"];
    const docs = manifests.split("---\n").map((d) => parse(d));
    const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`);
    expect(kinds.slice(0, 2)).toEqual(["HelmChart/cert-manager", "HelmChart/longhorn"]);
    expect(kinds).toEqual(expect.arrayContaining(["Ingress/backend", "ClusterIssuer/probatio-acme", "NetworkPolicy/acme-http01-solver"]));
    // No second Traefik, no Service of type LoadBalancer: K3s's Traefik answers on every node's 80 and 443.
    expect(kinds.filter((k) => k.startsWith("HelmChart/traefik") || k === "Service/traefik")).toEqual([]);
    const certManager = docs[0];
    expect(certManager.spec).toMatchObject({ repo: "https://charts.jetstack.io", version: "v1.16.2", targetNamespace: "cert-manager" });
    expect(parse(certManager.spec.valuesContent)).toEqual({ crds: { enabled: true } });
    expect(docs.find((d) => d.kind === "ClusterIssuer").spec.acme.server).toBe("https://acme.test/dir");
    const solver = docs.find((d) => d.metadata.name === "acme-http01-solver").spec;
    expect(solver.ingress[0]).toEqual({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
      ports: [{ protocol: "TCP", port: 8089 }],
    });
  });

  test.each(
    [
      [
        { variant: "k3s", k3s: { servers: 2, agents: 1, serverFlavor: "x", agentFlavor: "x", token: "t" } },
        "argument 'k3s.servers' must be 1, or an odd number",
      ],
      [{ variant: "k3s" }, "argument 'k3s' is required"],
      [{ nodePool: { flavor: "b3-16", minNodes: 5, maxNodes: 3 } }, "argument 'nodePool.maxNodes' must be >= minNodes (5), got 3"],
      [{ cloudProject: undefined }, "argument 'cloudProject' is required for OVH Managed Kubernetes"],
      [
        {
          variant: "k3s",
          k3s: { servers: 1, agents: 1, serverFlavor: "x", agentFlavor: "x", token: "t" },
          workload: {
            ...workload,
            allow: { ...workload.allow, egress: [{ cidr: "10.0.20.0/24", port: pulumi.output(20184), description: "PostgreSQL" }] },
          },
        },
        "argument 'workload.allow.egress' 'PostgreSQL' needs a port number on K3s",
      ],
    ].map(([bad, message]) => [message as string, bad as object]),
  )("validation refuses with %s", (message, bad) => {
    expect(() =>
      validateK8sPlatformArgs({ stack: "s", phase: 4, variant: "ovh-mks", cloudProject: "p", ...(bad as object) } as never),
    ).toThrow(message);
  });
});
