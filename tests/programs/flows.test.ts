/**
 * The fences of the phases on Public Cloud instances (ProbatioVault 2-3, KoproGo 3-4): one security group per role,
 * generated from the phase's flows, every instance (or its ports) in its group, and nothing open that no flow needs.
 */
import { allows, ALLOW_LIST, flowRules, WORLD } from "../../components/flows";
import { planPhase } from "../../offline/plan";
import { PLAN_NAT_EGRESS } from "../../offline/mockRun";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";
import { phaseFlows } from "../../programs/phase/flows";
import { byType } from "../helpers";

// Each plan runs the whole phase program under Pulumi's mocks (a second or two, more on a loaded machine).
jest.setTimeout(180_000);

const topology = (roadmap: RoadmapId, phase: number, env = "prod") => environmentFor(getPhase(roadmap, phase), env).topology;
const pv3 = phaseFlows(topology("probatio", 3), { acme: { email: "ops@example.com" } as never }, "backend");
/** The ports a role accepts from a source, sorted ("tcp/5432", "vrrp"). */
const into = (flows: ReturnType<typeof phaseFlows>, to: string, from: string) =>
  flows
    .filter((f) => f.to === to && f.from === from)
    .map((f) => (f.port === undefined ? f.protocol : `${f.protocol}/${f.port}`))
    .sort();

describe("ProbatioVault phase 3's flows", () => {
  test("the database machines: PostgreSQL from pgBouncer and each other only; Patroni and etcd between members and the witness; SSH; node exporter", () => {
    expect(into(pv3, "database", "pgbouncer")).toEqual(["tcp/2379", "tcp/2380", "tcp/5432", "tcp/8008"]);
    expect(into(pv3, "database", "database")).toEqual(["tcp/2379", "tcp/2380", "tcp/5432", "tcp/8008"]);
    expect(into(pv3, "database", "backend")).toEqual(["tcp/22"]);
    expect(into(pv3, "database", "monitoring")).toEqual(["tcp/9100"]);
    expect(into(pv3, "database", ALLOW_LIST)).toEqual(["tcp/22"]);
    for (const other of ["lb", "cache", "ci-runner", WORLD]) expect(into(pv3, "database", other)).toEqual([]);
  });

  test("the application reaches pgBouncer's 6432, Redis's 6379 and Sentinel's 26379; the load balancer reaches it on 3000", () => {
    expect(into(pv3, "pgbouncer", "backend")).toEqual(["tcp/22", "tcp/6432"]);
    expect(into(pv3, "cache", "backend")).toEqual(["tcp/22", "tcp/26379", "tcp/6379"]);
    expect(into(pv3, "backend", "lb")).toEqual(["tcp/3000"]);
    expect(into(pv3, "cache", "cache")).toEqual(["tcp/26379", "tcp/6379"]);
  });

  test("only the load balancer's 80/443 from the internet; VRRP and ACME's challenge port between the pair", () => {
    const fromWorld = pv3.filter((f) => f.from === WORLD).map((f) => `${f.to}:${f.port}`);
    expect(fromWorld).toEqual(["lb:80", "lb:443"]);
    expect(into(pv3, "lb", "lb")).toEqual(["tcp/8888", "vrrp"]);
  });

  test("every machine goes out for DNS, NTP, packages and backups only", () => {
    for (const role of ["lb", "backend", "cache", "pgbouncer", "database", "ci-runner"]) {
      const out = pv3.filter((f) => f.from === role && f.to === WORLD).map((f) => `${f.protocol}/${f.port}`);
      expect(out.sort()).toEqual(["tcp/443", "tcp/53", "tcp/80", "udp/123", "udp/53"]);
    }
  });

  test("the rules: a group's members named by group (autoscaled backends included), the allow-list by CIDR, replies stateful", () => {
    const rules = flowRules(pv3, ["203.0.113.7/32"]);
    const dbIngress = rules.filter((r) => r.group === "database" && r.direction === "ingress");
    expect(dbIngress.filter((r) => r.port === 5432).map((r) => r.remoteGroup)).toEqual(["pgbouncer", "database"]);
    expect(dbIngress.filter((r) => r.port === 22).map((r) => r.remoteGroup ?? r.remote)).toEqual(["203.0.113.7/32", "backend"]);
    const backendEgress = rules.filter((r) => r.group === "backend" && r.direction === "egress" && r.remoteGroup);
    expect(backendEgress.map((r) => `${r.remoteGroup}:${r.port}`).sort()).toEqual(
      [
        "cache:22",
        "cache:26379",
        "cache:6379",
        "ci-runner:22",
        "database:22",
        "lb:22",
        "monitoring:22",
        "pgbouncer:22",
        "pgbouncer:6432",
      ].sort(),
    );
    expect(allows(pv3, "backend", "database", "tcp", 5432)).toBe(false);
  });
});

describe("K3s (KoproGo 3-4)", () => {
  test("the API server, the kubelet, etcd and flannel stay between the nodes (kubectl from the allow-list); Traefik's 80/443 are the entry", () => {
    const kg3 = phaseFlows(topology("koprogo", 3, "staging"), {}, undefined);
    expect(into(kg3, "k3s-server", "k3s-agent")).toEqual(["tcp/10250", "tcp/6443", "udp/8472"]);
    expect(into(kg3, "k3s-server", "k3s-server")).toEqual(["tcp/10250", "tcp/2379", "tcp/2380", "tcp/6443", "udp/8472"]);
    expect(into(kg3, "k3s-agent", "k3s-server")).toEqual(["tcp/10250", "udp/8472"]);
    expect(into(kg3, "k3s-server", ALLOW_LIST)).toEqual(["tcp/22", "tcp/6443"]);
    expect(into(kg3, "k3s-agent", ALLOW_LIST)).toEqual(["tcp/22"]);
    expect(into(kg3, "k3s-agent", WORLD)).toEqual(["tcp/443", "tcp/80"]);
  });

  test("phase 4: the agents' 80/443 from the managed load balancer's subnet, not from the internet", () => {
    const kg4 = phaseFlows(topology("koprogo", 4), {}, undefined);
    expect(into(kg4, "k3s-agent", "10.0.10.0/24")).toEqual(["tcp/443", "tcp/80"]);
    expect(kg4.filter((f) => f.from === WORLD)).toEqual([]);
  });
});

describe("the declared groups", () => {
  test.each([
    ["probatio", 2, 10],
    ["probatio", 3, 14],
    ["koprogo", 4, 6],
  ] as const)(
    "%s phase %d: every one of its %d machines in its role's group, by name (instances) or id (HAProxy's ports)",
    async (roadmap, phase, machines) => {
      const run = await planPhase({ roadmap, phase, stack: "prod" });
      const groups = byType(run, "openstack:networking/secGroup:SecGroup");
      expect(groups.every((g) => g.inputs.deleteDefaultRules === true && String(g.inputs.name).startsWith("prod-g1-"))).toBe(true);
      const instances = byType(run, "openstack:compute/instance:Instance");
      expect(instances).toHaveLength(machines);
      for (const i of instances) {
        const onPorts = ((i.inputs.networks as { port?: string }[]) ?? []).every((n) => !!n.port);
        const role = String(i.inputs.name)
          .replace(/^prod-/, "")
          .replace(/(-standby)?-\d+$/, "");
        if (!onPorts) expect(i.inputs.securityGroups).toEqual([`prod-g1-${role}`]);
      }
      const names = new Set(groups.map((g) => String(g.inputs.name)));
      for (const i of instances) for (const g of (i.inputs.securityGroups as string[]) ?? []) expect(names.has(g)).toBe(true);
    },
  );

  test("phase 3's pair: both nodes' ports and the VRRP address's port in the load balancer's group; VRRP is IP protocol 112 without ports", async () => {
    const run = await planPhase({ roadmap: "probatio", phase: 3, stack: "prod" });
    const ports = byType(run, "openstack:networking/port:Port");
    expect(ports.map((p) => p.inputs.securityGroupIds)).toEqual([["role-groups-lb-id"], ["role-groups-lb-id"], ["role-groups-lb-id"]]);
    const vrrp = byType(run, "openstack:networking/secGroupRule:SecGroupRule").filter((r) => r.inputs.protocol === "vrrp");
    const vrrpRules = vrrp.map((r) => [r.inputs.direction, r.inputs.securityGroupId, r.inputs.remoteGroupId, r.inputs.portRangeMin]);
    expect(vrrpRules.sort()).toEqual([
      ["egress", "role-groups-lb-id", "role-groups-lb-id", undefined],
      ["ingress", "role-groups-lb-id", "role-groups-lb-id", undefined],
    ]);
  });

  test("while phase 3 moves its data to phase 4, its database machines let in the managed database's subnet on 5432, and nothing else more", async () => {
    const migration = {
      roadmap: "probatio" as const,
      from: 3,
      to: 4,
      stage: "transitional" as const,
      completed: [],
      startedAt: "2026-11-25T00:00:00Z",
    };
    const run = await planPhase({ roadmap: "probatio", phase: 3, stack: "prod", overrides: { migration } });
    const peer = byType(run, "openstack:networking/secGroupRule:SecGroupRule").filter((r) => r.name.endsWith("migration-peer"));
    expect(peer.map((r) => r.inputs)).toEqual([
      expect.objectContaining({
        securityGroupId: "role-groups-database-id",
        direction: "ingress",
        protocol: "tcp",
        portRangeMin: 5432,
        portRangeMax: 5432,
        remoteIpPrefix: "10.0.20.0/24",
      }),
    ]);
  });
});

describe("phase 4's managed Kubernetes API server", () => {
  const RESTRICTIONS = "ovh:CloudProject/kubeIpRestrictions:KubeIpRestrictions";
  test("answers the allow-list and the nodes' egress (the NAT gateway) only, once an allow-list is set", async () => {
    const run = await planPhase({ roadmap: "probatio", phase: 4, stack: "prod", overrides: { sshAllowList: ["203.0.113.7/32"] } });
    const [restrictions] = byType(run, RESTRICTIONS);
    expect(restrictions.inputs.ips).toEqual(["203.0.113.7/32", `${PLAN_NAT_EGRESS}/32`]);
  });

  test("with no allow-list, none: closing it to every address would lock probatio's own updates out", async () => {
    expect(byType(await planPhase({ roadmap: "probatio", phase: 4, stack: "prod" }), RESTRICTIONS)).toEqual([]);
  });
});
