import { parse } from "yaml";
import { planPhase, planSettings } from "../../offline/plan";
import { diffPlans } from "../../offline/planDiff";
import { PLAN_MANAGED_DATABASE_PORT, runUnderMocks } from "../../offline/mockRun";
import { buildPhase } from "../../programs/phase";
import { roadmaps, RoadmapId } from "../../programs/roadmaps";
import { cloudInitFiles, named, byType, plan } from "../helpers";

// Each plan runs the whole phase program under Pulumi's mocks: a second or two alone, over a minute on a loaded machine (a wait).
jest.setTimeout(180_000);

async function files(roadmap: RoadmapId, phase: number, fleet: string, i = 0, stack = "prod"): Promise<Record<string, string>> {
  const run = await runUnderMocks(() => buildPhase(planSettings({ roadmap, phase, stack })) as never, {
    project: "probatio",
    stack,
    revealSecrets: true,
  });
  const ud = run.componentOutputs[fleet]?.userData as string[] | undefined;
  if (!ud) throw new Error(`no fleet ${fleet}: ${Object.keys(run.componentOutputs).join(", ")}`);
  return cloudInitFiles(ud[i]);
}

const instances = (p: { resources: any[] }, prefix: string) =>
  byType(p, "openstack:compute/instance:Instance").filter((i) => String(i.inputs.name).startsWith(prefix));

describe("every phase of both roadmaps plans offline, on both stacks", () => {
  const cases = Object.values(roadmaps).flatMap((r) =>
    r.phases.flatMap((p) => ["dev", "prod"].map((stack) => [r.id, p.phase, stack] as const)),
  );
  test.each(cases)("%s phase %d, stack %s", async (roadmap, phase, stack) => {
    const p = await planPhase({ roadmap, phase, stack });
    expect(p.resources.length).toBeGreaterThan(0);
    expect(p.resources.every((r) => /^[a-z0-9-]+:[\w./-]*:\w+$/i.test(r.type))).toBe(true);
    expect(JSON.stringify(p)).not.toContain("plan-placeholder-password");
    expect(p.estimate.seedMonthlyEur).toBeGreaterThan(0);
  });
});

describe("ProbatioVault against the seed", () => {
  test("phase 1: pgBouncer pool 50 in front of max_connections 200, a Redis cache, PM2 cluster mode 'max', Prometheus", async () => {
    const db = await files("probatio", 1, "postgres-primary");
    expect(db["/etc/postgresql/15/main/conf.d/probatio.conf"]).toContain("max_connections = 200");
    expect(db["/etc/pgbouncer/pgbouncer.ini"]).toContain("default_pool_size = 50");
    const backend = await files("probatio", 1, "backend");
    expect(JSON.parse(backend["/etc/probatio/pm2/backend.config.json"]).apps[0]).toMatchObject({
      instances: "max",
      exec_mode: "cluster",
      autorestart: true,
    });
    const p = await plan("probatio", 1);
    expect(byType(p, "ovh:Vps/vps:Vps").map((v) => v.inputs.displayName)).toContain("prod-cache-1");
    const mon = await files("probatio", 1, "monitoring");
    expect(mon["/etc/prometheus/prometheus.yml"]).toContain("job_name: node-backend");
    expect(p.estimate.seedMonthlyEur).toBe(90);
  });

  test("phase 2: HAProxy in front of 3 backends, a streaming replica, pgBouncer machine, backups every 6 h", async () => {
    const p = await plan("probatio", 2);
    expect(instances(p, "prod-backend-")).toHaveLength(3);
    expect(instances(p, "prod-lb-")).toHaveLength(1);
    expect(instances(p, "prod-database-standby-")).toHaveLength(1);
    const lb = await files("probatio", 2, "lb-nodes");
    // Each backend twice: in "app" (every request) and "app_reads" (GET, HEAD: moved first by a migration).
    expect(lb["/etc/haproxy/haproxy.cfg"].match(/server backend\d 10\.1\.0\.10[0-2]:3000 weight 100 check/g)).toHaveLength(6);
    // PostgreSQL fails over by itself: Patroni on both database machines, etcd on them and on the pgBouncer machine.
    const db = await files("probatio", 2, "postgres-primary");
    expect(db["/etc/cron.d/probatio-pg-backup"]).toContain("0 */6 * * * postgres /usr/local/sbin/probatio-pg-backup");
    const patroni = parse(db["/etc/patroni/config.yml"]);
    expect(patroni.bootstrap.dcs).toMatchObject({ ttl: 20, loop_wait: 2, retry_timeout: 5, synchronous_mode: false });
    expect(patroni.etcd3.hosts).toEqual(["10.1.0.30:2379", "10.1.0.31:2379", "10.1.0.35:2379"]);
    expect(patroni.postgresql.connect_address).toBe("10.1.0.30:5432");
    const bouncer = await files("probatio", 2, "pgbouncer");
    // The application's one address: pgBouncer, to the HAProxy beside it that follows Patroni's leader.
    expect(bouncer["/etc/pgbouncer/pgbouncer.ini"]).toContain("app = host=127.0.0.1 port=5000 dbname=app");
    expect(bouncer["/etc/haproxy/haproxy.cfg"]).toContain("option httpchk GET /primary");
    expect(bouncer["/etc/haproxy/haproxy.cfg"].match(/server prod-database-\S+ 10\.1\.0\.3[01]:5432 check port 8008/g)).toHaveLength(2);
    expect(bouncer["/etc/default/etcd"]).toContain(
      'ETCD_INITIAL_CLUSTER="prod-database-1=http://10.1.0.30:2380,prod-database-standby-1=http://10.1.0.31:2380,prod-pgbouncer-1=http://10.1.0.35:2380"',
    );
    expect(named(p, "network-private").inputs.cidr).toBe("10.1.0.0/24");
  });

  test("phase 3: HAProxy pair with a VRRP VIP, PostgreSQL primary + sync + async standbys, Redis 3 + Sentinel quorum 2, Alertmanager, scaling 3-10", async () => {
    const p = await plan("probatio", 3);
    expect(instances(p, "prod-lb-")).toHaveLength(2);
    expect(named(p, "lb-vip").inputs.fixedIps).toEqual([{ subnetId: "network-private-id", ipAddress: "10.1.0.10" }]);
    const db = await files("probatio", 3, "postgres-primary");
    // Patroni names the synchronous standby itself, among those that stream (never one that does not: commits would block).
    expect(parse(db["/etc/patroni/config.yml"]).bootstrap.dcs).toMatchObject({ synchronous_mode: true, synchronous_node_count: 1 });
    // The third database machine is a client of the store, not a member: the store keeps its phase 2 membership.
    expect((await files("probatio", 3, "postgres-standby", 1))["/etc/default/etcd"]).toBeUndefined();
    expect(instances(p, "prod-database-standby-")).toHaveLength(2);
    const redis = await files("probatio", 3, "redis-nodes", 2);
    expect(redis["/etc/redis/sentinel.conf"]).toContain("sentinel monitor prod-redis 10.1.0.20 6379 2");
    const mon = await files("probatio", 3, "monitoring");
    const am = parse(mon["/etc/prometheus/alertmanager.yml"]);
    expect(am.receivers[0].email_configs[0].to).toBe("oncall@example.com");
    // Alert mail leaves through the stack's relay, over TLS, never a local port 25 where nothing listens.
    expect(am.global).toEqual({ smtp_smarthost: "smtp.example.com:587", smtp_from: "oncall@example.com", smtp_require_tls: true });
    // The HAProxy nodes' addresses are their ports' fixed addresses (delivery and Prometheus reach them there).
    const run = await runUnderMocks(() => buildPhase(planSettings({ roadmap: "probatio", phase: 3, stack: "prod" })) as never, {
      project: "probatio",
      stack: "prod",
    });
    expect(run.componentOutputs["lb-nodes"].addresses).toEqual(["10.1.0.11", "10.1.0.12"]);
    expect(parse(mon["/etc/prometheus/rules/probatio.yml"]).groups[0].rules.map((r: any) => r.alert)).toEqual([
      "InstanceDown",
      "HighCpu",
      "HighMemory",
      "DiskFilling",
      "SlowRequests",
      "ErrorBudgetBurn",
    ]);
    expect(roadmaps.probatio.phases[3].environments.prod.scaling).toEqual({
      min: 3,
      max: 10,
      scaleUpCpuPercent: 70,
      scaleUpForMinutes: 5,
      scaleDownCpuPercent: 30,
      scaleDownForMinutes: 10,
    });
  }, 180_000);

  test("phase 4: the VPC, zero-trust groups, managed PostgreSQL (3 nodes), Kubernetes HPA 3-50, Redis 3 nodes, HSM, WORM 10 years; ~595 EUR itemised", async () => {
    const p = await plan("probatio", 4);
    expect(named(p, "network-net").type).toBe("openstack:networking/network:Network");
    expect(
      byType(p, "openstack:networking/subnet:Subnet")
        .map((s) => s.inputs.cidr)
        .sort(),
    ).toEqual(["10.0.1.0/24", "10.0.10.0/24", "10.0.20.0/24", "10.0.30.0/24"]);
    expect(byType(p, "openstack:networking/secGroup:SecGroup").every((g) => g.inputs.deleteDefaultRules)).toBe(true);
    expect(named(p, "postgres-managed").inputs).toMatchObject({ engine: "postgresql", ipRestrictions: [{ ip: "10.0.10.0/24" }] });
    expect((named(p, "postgres-managed").inputs.nodes as unknown[]).length).toBe(3);
    expect(byType(p, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")[0].inputs).toMatchObject({
      spec: { minReplicas: 3, maxReplicas: 50 },
    });
    expect(instances(p, "prod-cache-").map((i) => i.inputs.securityGroups)).toEqual([["prod-cache"], ["prod-cache"], ["prod-cache"]]);
    expect(named(p, "worm-bucket").inputs).toMatchObject({ objectLock: { rule: { mode: "compliance", period: "P10Y" } } });
    expect(named(p, "hsm-master-key").protect).toBe(true);
    expect(p.estimate.seedMonthlyEur).toBe(595);
    expect(p.estimate.monthlyEur).toBe(595);
    expect(p.estimate.seedAsWritten).toContain("300-500");
  });

  test("phase 4: the pods reach OVH's managed PostgreSQL on the port the service answers on (not 5432), in the database subnet only", async () => {
    const p = await plan("probatio", 4);
    // PLAN_MANAGED_DATABASE_PORT: the plan's stand-in for the port OVH gives the service (its endpoints' first).
    const egress = byType(p, "kubernetes:networking.k8s.io/v1:NetworkPolicy").find(
      (r) => (r.inputs as any).metadata.name === "backend-egress",
    )!;
    const toDatabase = (egress.inputs as any).spec.egress.filter((e: any) => e.to.some((t: any) => t.ipBlock?.cidr === "10.0.20.0/24"));
    expect(toDatabase).toEqual([
      { to: [{ ipBlock: { cidr: "10.0.20.0/24" } }], ports: [{ protocol: "TCP", port: PLAN_MANAGED_DATABASE_PORT }] },
    ]);
    expect(JSON.stringify((egress.inputs as any).spec)).not.toContain('"port":5432');
  });
});

describe("KoproGo against the seed", () => {
  test("phase 1: one VPS (1 vCPU, 2 GB, 40 GB) running Docker Compose: Traefik, PostgreSQL 15, backend; ~5 EUR", async () => {
    const p = await plan("koprogo", 1);
    const vps = byType(p, "ovh:Vps/vps:Vps");
    expect(vps).toHaveLength(1);
    expect((vps[0].inputs.plans as any)[0].planCode).toBe("vps-value-1-2-40");
    expect(vps[0].protect).toBe(true);
    const compose = parse((await files("koprogo", 1, "app"))["/opt/koprogo/docker-compose.yml"]);
    expect(Object.keys(compose.services)).toEqual(["traefik", "postgres", "backend"]);
    expect(compose.services.postgres.image).toBe("postgres:15");
    expect(p.estimate.monthlyEur).toBe(5);
  });

  test("phase 2: 2 vCPU / 4 GB / 80 GB, shared_buffers=1GB, backend memory 500M, Traefik metrics; ~15 EUR", async () => {
    const compose = parse((await files("koprogo", 2, "app"))["/opt/koprogo/docker-compose.yml"]);
    expect(compose.services.postgres.command).toEqual([
      "postgres",
      "-c",
      "max_connections=100",
      "-c",
      "wal_level=logical",
      "-c",
      "max_wal_senders=10",
      "-c",
      "max_replication_slots=10",
      "-c",
      "shared_buffers=1GB",
      "-c",
      "hba_file=/etc/probatio/pg_hba.conf",
      "-c",
      "ssl=on",
      "-c",
      "ssl_cert_file=/etc/probatio/pg-tls/server.crt",
      "-c",
      "ssl_key_file=/etc/probatio/pg-tls/server.key",
    ]);
    // The VPS's loopback only, outside a migration (tests/migration/composeSource.test.ts: during one).
    expect(compose.services.postgres.ports).toEqual(["127.0.0.1:5432:5432"]);
    expect(compose.services.backend.mem_limit).toBe("500M");
    expect(compose.services.traefik.command).toContain("--metrics.prometheus=true");
    expect((await plan("koprogo", 2)).estimate.monthlyEur).toBe(15);
  });

  test("phase 3: K3s dev 1 server + 1 agent, staging 1 + 2, Helm: PostgreSQL HA, DragonflyDB, Prometheus stack", async () => {
    const dev = await plan("koprogo", 3, "dev");
    expect(instances(dev, "dev-k3s-server-")).toHaveLength(1);
    expect(instances(dev, "dev-k3s-agent-")).toHaveLength(1);
    const staging = await plan("koprogo", 3, "staging");
    expect(instances(staging, "staging-k3s-server-")).toHaveLength(1);
    expect(instances(staging, "staging-k3s-agent-")).toHaveLength(2);
    const manifests = (await files("koprogo", 3, "k8s-servers", 0, "dev"))["/var/lib/rancher/k3s/server/manifests/probatio.yaml"];
    expect(
      manifests
        .split("---\n")
        .map((d) => parse(d))
        .filter((d) => d.kind === "HelmChart")
        .map((d) => d.metadata.name),
    ).toEqual(["cert-manager", "postgresql-ha", "dragonfly", "kube-prometheus-stack"]);
  });

  test("phase 4: K3s HA (3 servers + 3 workers of 8 vCPU/30 GB), OVH load balancer, protected backups bucket, Longhorn, network policies", async () => {
    const p = await plan("koprogo", 4);
    expect(instances(p, "prod-k3s-server-").map((i) => i.inputs.flavorName)).toEqual(["b2-30", "b2-30", "b2-30"]);
    expect(instances(p, "prod-k3s-agent-").map((i) => i.inputs.flavorName)).toEqual(["b2-30", "b2-30", "b2-30"]);
    expect(byType(p, "openstack:loadbalancer/loadBalancer:LoadBalancer")).toHaveLength(1);
    expect(named(p, "backups").protect).toBe(true);
    const manifests = (await files("koprogo", 4, "k8s-servers"))["/var/lib/rancher/k3s/server/manifests/probatio.yaml"]
      .split("---\n")
      .map((d) => parse(d));
    expect(manifests.filter((d) => d.kind === "HelmChart").map((d) => d.metadata.name)).toEqual([
      // cert-manager: the entry's certificate (k8sEntry.ts); then the seed's releases.
      "cert-manager",
      "postgresql-ha",
      "dragonfly",
      "longhorn",
      "kepler",
      "kube-prometheus-stack",
      "loki",
    ]);
    expect(manifests.some((d) => d.kind === "NetworkPolicy" && d.metadata.name === "default-deny-all")).toBe(true);
    // The backend reaches the cluster's PostgreSQL and DragonflyDB in their namespaces, and only Traefik reaches it.
    const policy = (name: string) => manifests.find((d) => d.kind === "NetworkPolicy" && d.metadata.name === name).spec;
    const ns = (name: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
    expect(policy("backend-egress").egress).toEqual(
      expect.arrayContaining([
        { to: [ns("database")], ports: [{ protocol: "TCP", port: 5432 }] },
        { to: [ns("cache")], ports: [{ protocol: "TCP", port: 6379 }] },
      ]),
    );
    expect(policy("backend-ingress").ingress).toEqual([{ from: [ns("kube-system")], ports: [{ protocol: "TCP", port: 3000 }] }]);
    expect(manifests.find((d) => d.kind === "Ingress").spec.rules[0].host).toBe("api.example.com");
    expect(p.estimate.seedMonthlyEur).toBe(270);
  });
});

describe("plan --diff", () => {
  test("ProbatioVault 2 -> 3 adds the second HAProxy, the VIP, a standby and two Redis nodes", async () => {
    const d = diffPlans(await plan("probatio", 2), await plan("probatio", 3));
    const added = d.added.map((r) => r.name);
    expect(added).toEqual(expect.arrayContaining(["lb-vip", "lb-nodes-2", "postgres-standby-2", "redis-nodes-2", "redis-nodes-3"]));
    expect(d.removed).toEqual([]);
  });
});
