import * as pulumi from "@pulumi/pulumi";
import { byType, machineFiles, mock } from "./helpers2";
import { LoadBalancerPair, validateLoadBalancerPairArgs } from "../../components/loadBalancerPair";
import { K8sPlatform, validateK8sPlatformArgs } from "../../components/k8sPlatform";
import { workloadObjects } from "../../components/config/k8sWorkload";
import { parse } from "yaml";

const backends = [1, 2, 3].map((i) => ({ name: `backend${i}`, address: `10.1.0.${99 + i}`, port: 3000 }));
const network = { networkId: "net", subnetId: "subnet", cidr: "10.1.0.0/24" };

describe("LoadBalancerPair", () => {
  test("two HAProxy nodes share a keepalived VRRP virtual IP: VIP port, allowed address pairs, floating IP on the VIP", async () => {
    const run = await mock(
      () =>
        new LoadBalancerPair("lb", {
          stack: "prod",
          phase: 3,
          variant: "haproxy",
          nodes: 2,
          backends,
          network,
          virtualIp: "10.1.0.10",
          nodeIps: ["10.1.0.11", "10.1.0.12"],
          vrrp: { routerId: 51, authPass: pulumi.secret("vrrp-secret-long") },
          machines: { offer: "d2-2" },
        }),
    );
    const ports = byType(run, "openstack:networking/port:Port");
    const vip = ports.find((p) => p.name === "lb-vip")!;
    expect(vip.inputs).toMatchObject({ fixedIps: [{ subnetId: "subnet", ipAddress: "10.1.0.10" }] });
    const nodePorts = ports.filter((p) => p.name !== "lb-vip");
    expect(nodePorts.map((p) => p.inputs.allowedAddressPairs)).toEqual([[{ ipAddress: "10.1.0.10" }], [{ ipAddress: "10.1.0.10" }]]);
    expect(byType(run, "openstack:networking/floatingIpAssociate:FloatingIpAssociate")[0].inputs).toMatchObject({ portId: "lb-vip-id" });
    const master = machineFiles(run, "lb-nodes", 0)["/etc/keepalived/keepalived.conf"];
    const backup = machineFiles(run, "lb-nodes", 1)["/etc/keepalived/keepalived.conf"];
    expect(master).toContain("state MASTER");
    expect(master).toContain("priority 150");
    expect(backup).toContain("state BACKUP");
    expect(backup).toContain("priority 100");
    expect(master).toContain("virtual_router_id 51");
    expect(master).toContain("10.1.0.10/24 dev ens3");
    expect(master).toMatch(/unicast_src_ip 10\.1\.0\.11\n\s+unicast_peer {\n\s+10\.1\.0\.12\n/);
    expect(master).toContain("auth_pass vrrp-sec");
    const haproxy = machineFiles(run, "lb-nodes", 0)["/etc/haproxy/haproxy.cfg"];
    expect(haproxy).toContain("server backend1 10.1.0.100:3000 weight 100 check");
    expect(haproxy).toContain("server backend3 10.1.0.102:3000 weight 100 check");
    expect(haproxy).toContain("option httpchk GET /health");
    expect(haproxy).toContain("bind 10.1.0.11:8404");
    // The migration's hooks: the runtime API on loopback only, reads in their own backend, a disabled slot.
    expect(haproxy).toContain("stats socket ipv4@127.0.0.1:9999 level admin");
    expect(haproxy).toContain("use_backend app_reads if METH_GET");
    expect(haproxy.match(/server next 127\.0\.0\.1:1 weight 0 disabled check ssl verify required ca-file @system-ca/g)).toHaveLength(2);
  });

  test("one node: HAProxy alone, no keepalived, no VIP", async () => {
    const run = await mock(
      () => new LoadBalancerPair("lb", { stack: "prod", phase: 2, variant: "haproxy", backends, machines: { offer: "d2-2" } }),
    );
    expect(byType(run, "openstack:networking/port:Port")).toHaveLength(0);
    expect(machineFiles(run, "lb-nodes", 0)["/etc/keepalived/keepalived.conf"]).toBeUndefined();
  });

  test("managed: an Octavia load balancer with TCP listeners on 80 and 443, health monitors and the backends as members", async () => {
    const run = await mock(() => new LoadBalancerPair("lb", { stack: "prod", phase: 4, variant: "managed", backends, network }));
    expect(
      byType(run, "openstack:loadbalancer/listener:Listener")
        .map((l) => l.inputs.protocolPort)
        .sort(),
    ).toEqual([443, 80]);
    expect(byType(run, "openstack:loadbalancer/monitor:Monitor")[0].inputs).toMatchObject({
      type: "TCP",
      delay: 5,
      timeout: 3,
      maxRetries: 3,
    });
    const members = byType(run, "openstack:loadbalancer/members:Members").find((m) => m.name === "lb-members-443")!;
    expect((members.inputs.members as { address: string }[]).map((m) => m.address)).toEqual(["10.1.0.100", "10.1.0.101", "10.1.0.102"]);
  });

  test.each([
    [{ nodes: 3 }, "argument 'nodes' must be 1 or 2 (got 3)"],
    [{ nodes: 2 }, "argument 'network' is required for a VRRP pair"],
    [{ nodes: 2, network, vrrp: { routerId: 300, authPass: "x" } }, "argument 'vrrp.routerId' must be 1-255 (got 300)"],
    [
      { nodes: 2, network, vrrp: { routerId: 5, authPass: "x" }, virtualIp: "10.9.0.1", nodeIps: ["10.1.0.11", "10.1.0.12"] },
      "must be addresses inside 10.1.0.0/24 (got 10.9.0.1)",
    ],
    [{ backends: [] }, "argument 'backends' must list at least one backend"],
  ])("validation refuses %j", (bad, message) => {
    expect(() =>
      validateLoadBalancerPairArgs({
        stack: "s",
        phase: 3,
        variant: "haproxy",
        backends,
        machines: { offer: "d2-2" },
        ...(bad as object),
      } as never),
    ).toThrow(message);
  });
});

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
