import * as pulumi from "@pulumi/pulumi";
import { bundleToCloudInit, mergeBundles, ServiceBundle } from "../components/config/bundle";
import { composeBundle } from "../components/config/compose";
import { renderAlertmanagerYml, renderAlertRules, renderPrometheusYml } from "../components/config/monitoring";
import { appServices } from "../components/config/services";
import { HsmEnclave } from "../components/hsmEnclave";
import { K8sPlatform } from "../components/k8sPlatform";
import { machineName } from "../components/labels";
import { LoadBalancerPair } from "../components/loadBalancerPair";
import { pgbouncerBundle, PostgresCluster } from "../components/postgresCluster";
import { PrivateNetwork } from "../components/privateNetwork";
import { RedisSentinel } from "../components/redisSentinel";
import { ports, SecurityGroups } from "../components/securityGroups";
import { VpsFleet } from "../components/vpsFleet";
import { WormBucket } from "../components/wormBucket";
import { ExitCode, ProbatioError } from "../lib/errors";
import { roleAddresses } from "./addressPlan";
import { environmentFor, FleetSpec, getPhase, getRoadmap, Phase, Topology } from "./roadmaps";
import { deriveSecret, PhaseSettings } from "./settings";

/** Services a component renders (the generic fleet adds nothing for them). */
const componentServices = new Set(["docker-compose", "postgresql", "pgbouncer", "redis", "redis-sentinel", "haproxy", "keepalived", "k3s-server", "k3s-agent", "prometheus", "grafana", "alertmanager"]);

/** The stack outputs of a phase: what an operator needs next. */
export interface PhaseOutputs {
  readonly roadmap: string;
  readonly phase: number;
  readonly environment: string;
  readonly machines: Record<string, pulumi.Input<string[]>>;
  readonly database?: { endpoint: pulumi.Output<string>; port: pulumi.Output<number>; backupBucket?: pulumi.Output<string> };
  readonly redis?: { endpoints: pulumi.Output<string>[]; masterName: string };
  readonly loadBalancer?: pulumi.Output<string>;
  readonly kubernetes?: { apiEndpoint: pulumi.Output<string>; kubeconfig?: pulumi.Output<string> };
  readonly hsm?: { endpoint: pulumi.Output<string>; keyIds: Record<string, pulumi.Output<string>>; port: number };
  readonly worm?: { bucket: pulumi.Output<string>; retentionYears: number; mode: string };
  readonly network?: { networkId: pulumi.Output<string>; subnets: Readonly<Record<string, string>> };
  readonly backupBucket?: pulumi.Output<string>;
}

/** Parent of the target phase while a side-by-side migration holds both phases in one stack. */
class NextPhase extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:migration:NextPhase", name, {}, opts);
    this.registerOutputs({});
  }
}

export const nextPhaseName = (generation: number) => `next-g${generation}`;

/**
 * Builds the phase's components from its roadmap data: the one program behind every phase of both roadmaps.
 * During a side-by-side migration (settings.migration.stage "transitional") the stack holds both phases: the
 * source as it is, and the target under a NextPhase component, with data stores named for the next generation so
 * nothing collides. Once the source is decommissioned, the target stays where it is: its top-level components
 * carry an alias to that parent, so nothing is replaced.
 */
export function buildPhase(settings: PhaseSettings): PhaseOutputs & { source?: PhaseOutputs; migration?: unknown } {
  const generation = settings.generation ?? 1;
  const aliasOpts = (g: number): pulumi.ComponentResourceOptions =>
    g > 1 ? { aliases: [{ parent: pulumi.createUrn(nextPhaseName(g), "probatio:migration:NextPhase") }] } : {};
  const build = (phaseNo: number, g: number, opts: pulumi.ComponentResourceOptions) => {
    const phase = getPhase(settings.roadmap, phaseNo);
    const env = environmentFor(phase, settings.stack, settings.environment);
    return new PhaseBuilder({ ...settings, phase: phaseNo }, phase, env.name, env.topology, opts, g).build();
  };
  const m = settings.migration;
  if (m && (m.stage === "transitional" || m.stage === "decommissioning")) {
    // Decommissioning drops the source first (while the target keeps its NextPhase parent), so that the source's
    // URNs are gone before the target moves to the root under its aliases.
    const source = m.stage === "transitional" ? build(m.from, generation, aliasOpts(generation)) : undefined;
    const next = new NextPhase(nextPhaseName(generation + 1));
    const target = build(m.to, generation + 1, { parent: next });
    return { ...target, source, migration: m };
  }
  return { ...build(settings.phase, generation, aliasOpts(generation)), migration: m };
}

class PhaseBuilder {
  private readonly machines: Record<string, pulumi.Input<string[]>> = {};
  /** Addresses to scrape (node exporter), by role. */
  private readonly inventory: { role: string; addresses: pulumi.Input<string>[] }[] = [];
  private readonly fleetByRole: Map<string, FleetSpec>;
  private readonly common: { phase: number; stack: string; region: string };
  private network?: PrivateNetwork;
  private groups?: SecurityGroups;

  constructor(
    private readonly s: PhaseSettings, private readonly phase: Phase, private readonly envName: string, private readonly t: Topology,
    private readonly rootOpts: pulumi.ComponentResourceOptions, private readonly generation: number,
  ) {
    this.fleetByRole = new Map(t.fleets.map((f) => [f.role, f]));
    this.common = { phase: s.phase, stack: s.stack, region: s.region };
  }

  private fail(message: string): never {
    throw new ProbatioError(`${this.phase.roadmap} phase ${this.phase.phase} (${this.envName}): ${message}`, undefined, ExitCode.failure);
  }

  /** The subnet a role lives in: "private" (VPS phases) or the tier (phase 4 VPC). */
  private subnetOf(role: string): string | undefined {
    const subnets = this.t.network?.subnets;
    if (!subnets) return undefined;
    if (subnets.private) return "private";
    if (role === "cache" || role.startsWith("k3s") || role === "backend") return subnets.backend ? "backend" : Object.keys(subnets)[0];
    return Object.keys(subnets).includes(role) ? role : subnets.backend ? "backend" : Object.keys(subnets)[0];
  }

  private fixedIps(role: string, count: number, planRole = role): string[] | undefined {
    const tier = this.subnetOf(role);
    return tier ? roleAddresses(this.t.network!.subnets[tier], planRole, count) : undefined;
  }

  private machineOpts(f: FleetSpec) {
    const tier = this.subnetOf(f.role);
    return {
      variant: f.variant,
      offer: f.offer,
      sshPublicKey: this.s.sshPublicKey,
      networkId: f.variant === "public-cloud" && this.network ? this.network.networkId : undefined,
      securityGroups: this.groups && tier ? [this.groups.names[f.role === "cache" ? "cache" : tier] ?? this.groups.names.backend] : undefined,
    };
  }

  build(): PhaseOutputs {
    const { t, s } = this;
    const out: { -readonly [K in keyof PhaseOutputs]: PhaseOutputs[K] } = { roadmap: this.phase.roadmap, phase: this.phase.phase, environment: this.envName, machines: this.machines };
    if (t.network) {
      this.network = new PrivateNetwork("network", {
        stack: s.stack, vpcCidr: t.network.vpcCidr, subnets: t.network.subnets, natGateway: t.network.natGateway,
        cloudProject: s.cloudProject, region: s.region,
      }, this.rootOpts);
      out.network = { networkId: this.network.networkId, subnets: t.network.subnets };
      const sub = t.network.subnets;
      if (t.network.zeroTrust && sub.public && sub.backend && sub.database && sub.hsm) {
        this.groups = new SecurityGroups("security-groups", {
          stack: s.stack, region: s.region, sshAllowList: s.sshAllowList,
          tiers: { public: sub.public, backend: sub.backend, database: sub.database, hsm: sub.hsm },
        }, this.rootOpts);
      }
    }

    const pg = t.postgres;
    const primaryFleet = pg?.primaryRole ? this.fleetByRole.get(pg.primaryRole) : undefined;
    if (pg?.mode === "self-managed" && !primaryFleet) this.fail(`postgres.primaryRole '${pg.primaryRole}' has no fleet`);
    const extra: Record<string, pulumi.Output<ServiceBundle>[]> = {};
    if (pg?.mode === "compose") {
      // KoproGo 1-2: PostgreSQL is a Docker Compose service on the app VPS (rendered with the stack, below).
      const app = primaryFleet ?? this.fail(`postgres.primaryRole '${pg.primaryRole}' has no fleet`);
      const image = s.backendImage ?? this.fail("backendImage is not set");
      (extra[app.role] ??= []).push(pulumi.output(s.dbPassword).apply((password) => composeBundle({
        domain: s.domain ?? this.fail("domain is not set"), acmeEmail: s.alertEmail ?? `admin@${s.domain}`, backendImage: image, backendPort: 8080,
        backendMemoryLimit: t.compose?.backendMemoryLimit, traefikMetrics: t.compose?.traefikMetrics ?? false,
        postgres: { version: pg.version, maxConnections: pg.maxConnections, sharedBuffers: pg.sharedBuffers, password },
      })));
    }
    const colocated = pg?.mode === "self-managed" && !!primaryFleet && primaryFleet.services.some((x) => x !== "postgresql");
    const claimed = new Set<string>(["monitoring"]);
    if (pg?.mode === "self-managed" && !colocated && primaryFleet) claimed.add(primaryFleet.role);
    if (t.redis && !t.redis.inCluster) claimed.add(t.redis.role);
    if (t.loadBalancer?.kind === "haproxy") claimed.add(t.loadBalancer.role);
    if (t.k8s?.kind === "k3s") ["k3s-server", "k3s-agent"].forEach((r) => claimed.add(r));
    claimed.add("pgbouncer");

    let cluster: PostgresCluster | undefined;
    const makePostgres = (allowedCidrs: pulumi.Input<string>[]) => {
      const pgs = pg!;
      const dedicatedPgBouncer = this.fleetByRole.has("pgbouncer");
      cluster = new PostgresCluster("postgres", {
        ...this.common,
        variant: pgs.mode === "managed" ? "managed" : "self-managed", version: pgs.version, standbys: pgs.standbys, maxConnections: pgs.maxConnections, sharedBuffers: pgs.sharedBuffers,
        pgbouncer: dedicatedPgBouncer ? undefined : pgs.pgbouncer,
        backup: { cron: pgs.backupCron, retentionDays: pgs.backupRetentionDays },
        allowedCidrs,
        passwords: {
          app: s.dbPassword,
          superuser: deriveSecret(s.dbPassword, "postgres-superuser"),
          replication: deriveSecret(s.dbPassword, "postgres-replication"),
        },
        cloudProject: s.cloudProject,
        bucketName: this.generation > 1 ? `${s.stack}-pg-backups-g${this.generation}` : undefined,
        role: primaryFleet?.role,
        colocated,
        machines: primaryFleet && !colocated ? this.machineOpts(primaryFleet) : undefined,
        fixedIps: primaryFleet && !colocated ? this.fixedIps(primaryFleet.role, primaryFleet.count) : undefined,
        managed: pgs.mode === "managed" ? {
          plan: pgs.managedPlan!, flavor: pgs.managedFlavor!, nodes: pgs.managedNodes!,
          networkId: this.network?.networkId, subnetId: this.network?.subnetIds.database,
        } : undefined,
      }, this.rootOpts);
      out.database = { endpoint: cluster.endpoint, port: cluster.port, backupBucket: cluster.backupBucket };
      if (primaryFleet && !colocated) {
        if (primaryFleet.count !== 1 + pgs.standbys.length) {
          this.fail(`the '${primaryFleet.role}' fleet has ${primaryFleet.count} machines but PostgreSQL needs ${1 + pgs.standbys.length} (primary + standbys)`);
        }
        this.machines[primaryFleet.role] = Array.from({ length: primaryFleet.count }, (_, i) =>
          i === 0 ? machineName(s.stack, primaryFleet.role, 0) : machineName(s.stack, `${primaryFleet.role}-standby`, i - 1));
        this.inventory.push({ role: primaryFleet.role, addresses: cluster.addresses });
      }
    };
    const pgManagedHere = pg && pg.mode !== "compose";
    if (pg && colocated) {
      makePostgres(["127.0.0.1/32"]);
      (extra[primaryFleet!.role] ??= []).push(cluster!.colocatedBundle!);
    }

    const appFleets = new Map<string, VpsFleet>();
    for (const f of t.fleets.filter((x) => !claimed.has(x.role))) {
      // The machine that holds the Compose PostgreSQL holds data: protected like a database.
      const holdsData = pg?.mode === "compose" && f.role === pg.primaryRole;
      appFleets.set(f.role, this.fleet(f, extra[f.role] ?? [], holdsData));
    }

    if (pgManagedHere && !colocated) {
      const subnets = t.network?.subnets;
      const allowed: pulumi.Input<string>[] = subnets
        ? Object.entries(subnets).filter(([k]) => k !== "public" && k !== "database" && k !== "hsm").map(([, v]) => v)
        : [...appFleets.entries()]
          .filter(([role]) => this.fleetByRole.get(role)!.services.some((x) => x === "backend" || x === "api"))
          .flatMap(([, f]) => f.addresses);
      makePostgres(allowed);
    }

    const bouncer = this.fleetByRole.get("pgbouncer");
    if (bouncer && pg && cluster) {
      const bundle = pulumi.all([s.dbPassword, cluster.endpoint]).apply(([password, host]) => pgbouncerBundle({
        poolSize: pg.pgbouncer?.poolSize ?? 50, port: pg.pgbouncer?.port ?? 6432, database: "app", appUser: "app",
        appPassword: password, backendHost: host, maxConnections: pg.maxConnections,
      }));
      this.fleet(bouncer, [bundle]);
    }

    if (t.redis && !t.redis.inCluster) {
      const f = this.fleetByRole.get(t.redis.role) ?? this.fail(`redis.role '${t.redis.role}' has no fleet`);
      if (f.count !== t.redis.nodes) this.fail(`the '${f.role}' fleet has ${f.count} machines but Redis needs ${t.redis.nodes}`);
      const redis = new RedisSentinel("redis", {
        ...this.common, role: f.role, nodes: t.redis.nodes, sentinel: t.redis.sentinel, quorum: t.redis.quorum,
        password: s.redisPassword ?? deriveSecret(s.dbPassword, "redis"), maxmemory: `${Math.max(1, Math.floor(f.size.ramGb * 0.6))}gb`,
        maxmemoryPolicy: t.redis.maxmemoryPolicy,
        machines: { ...this.machineOpts(f), fixedIps: this.fixedIps(f.role, f.count) },
      }, this.rootOpts);
      out.redis = { endpoints: redis.endpoints, masterName: redis.masterName };
      this.machines[f.role] = Array.from({ length: f.count }, (_, i) => machineName(s.stack, f.role, i));
      this.inventory.push({ role: f.role, addresses: redis.endpoints.map((e) => e.apply((x) => x.split(":")[0])) });
    }

    if (t.loadBalancer) {
      const lb = t.loadBalancer;
      const backendsFleet = appFleets.get(lb.backendRole);
      if (lb.kind === "haproxy") {
        const f = this.fleetByRole.get(lb.role) ?? this.fail(`loadBalancer.role '${lb.role}' has no fleet`);
        if (!backendsFleet) this.fail(`loadBalancer.backendRole '${lb.backendRole}' has no fleet`);
        const tier = this.subnetOf(f.role);
        const pair = new LoadBalancerPair("lb", {
          ...this.common, variant: "haproxy", nodes: lb.nodes, role: f.role,
          backends: backendsFleet.addresses.map((address, i) => ({ name: `${lb.backendRole}${i + 1}`, address, port: lb.backendPort })),
          network: this.network && tier ? { networkId: this.network.networkId, subnetId: this.network.subnetIds[tier], cidr: t.network!.subnets[tier] } : undefined,
          virtualIp: lb.nodes === 2 && tier ? roleAddresses(t.network!.subnets[tier], "lb-vip", 1)[0] : undefined,
          nodeIps: this.fixedIps(f.role, f.count),
          vrrp: lb.nodes === 2 ? { routerId: lb.vrrpRouterId ?? 51, authPass: deriveSecret(s.dbPassword, "vrrp") } : undefined,
          machines: { offer: f.offer, sshPublicKey: s.sshPublicKey }, domain: s.domain,
        }, this.rootOpts);
        out.loadBalancer = pair.address;
        this.machines[f.role] = Array.from({ length: f.count }, (_, i) => machineName(s.stack, f.role, i));
        this.inventory.push({ role: f.role, addresses: this.fixedIps(f.role, f.count) ?? [] });
      } else if (t.k8s?.kind !== "ovh-mks") {
        // Managed (Octavia) load balancer in front of machines; on OVH Managed Kubernetes the backend Service of
        // type LoadBalancer creates it instead (see K8sPlatform).
        const tier = this.subnetOf(lb.backendRole) ?? this.fail("a managed load balancer needs a private network");
        const backendIps = this.fixedIps(lb.backendRole, this.fleetByRole.get(lb.backendRole)?.count ?? 0) ?? [];
        const pair = new LoadBalancerPair("lb", {
          ...this.common, variant: "managed",
          backends: backendIps.map((address, i) => ({ name: `${lb.backendRole}${i + 1}`, address, port: lb.backendPort })),
          network: { networkId: this.network!.networkId, subnetId: this.network!.subnetIds[tier], cidr: t.network!.subnets[tier] },
        }, this.rootOpts);
        out.loadBalancer = pair.address;
      }
    }

    if (t.k8s) out.kubernetes = this.kubernetes();

    if (t.hsm) {
      const sub = t.network?.subnets ?? this.fail("the HSM needs the VPC's subnets");
      const hsm = new HsmEnclave("hsm", {
        stack: s.stack, keys: t.hsm.keys.map((n) => ({ name: n, type: /sign/.test(n) ? "EC" as const : "oct" as const })),
        identityUrns: [s.hsmIdentityUrn ?? this.fail("hsmIdentityUrn is not set")], hsmSubnet: sub.hsm, backendSubnet: sub.backend, port: ports.hsm,
      }, this.rootOpts);
      out.hsm = { endpoint: hsm.endpoint, keyIds: hsm.keyIds, port: hsm.port };
    }

    if (t.worm) {
      const worm = new WormBucket("worm", {
        bucketName: `${s.stack}-legal-archive`, backend: s.wormBackend ?? t.worm.backend, retentionYears: t.worm.retentionYears,
        mode: t.worm.mode, previousRetentionYears: s.wormRetentionFloor, cloudProject: s.cloudProject,
      }, this.rootOpts);
      out.worm = { bucket: worm.bucket, retentionYears: worm.retentionYears, mode: worm.mode };
    }

    if (t.backupBucket) {
      const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
      const bucket = new ovh.cloudproject.Storage("backups", {
        serviceName: s.cloudProject, regionName: s.region.replace(/[0-9]+$/, ""), name: `${s.stack}-backups`,
        versioning: { status: "enabled" }, encryption: { sseAlgorithm: "AES256" },
      }, { ...this.rootOpts, protect: true });
      out.backupBucket = bucket.name;
    }

    const mon = this.fleetByRole.get("monitoring");
    if (mon) this.fleet(mon, [this.monitoringBundle()]);
    return out;
  }

  private kubernetes(): PhaseOutputs["kubernetes"] {
    const { t, s } = this;
    const k = t.k8s!;
    const sub = t.network?.subnets ?? {};
    const image = s.backendImage ?? this.fail("backendImage is not set");
    const egress = [
      ...(sub.database ? [{ cidr: sub.database, port: ports.postgres, description: "PostgreSQL" }] : []),
      ...(sub.backend ? [{ cidr: sub.backend, port: ports.redis, description: "Redis" }] : []),
      ...(sub.hsm ? [{ cidr: sub.hsm, port: ports.hsm, description: "HSM" }] : []),
      { cidr: "0.0.0.0/0", port: ports.https, description: "external APIs" },
    ];
    const workload = {
      namespace: this.phase.roadmap, app: "backend", image, port: 3000, replicas: k.hpa?.minPods ?? 2, hpa: k.hpa,
      resources: { cpuRequest: "250m", memoryRequest: "256Mi", cpuLimit: "1", memoryLimit: "512Mi" },
      loadBalancer: k.kind === "ovh-mks" && t.loadBalancer?.kind === "managed" ? { flavor: t.loadBalancer.flavor ?? "small" } : undefined,
      allow: { ingressFrom: [sub.public ?? t.network?.vpcCidr ?? "0.0.0.0/0"], egress },
    };
    if (k.kind === "ovh-mks") {
      const platform = new K8sPlatform("k8s", {
        ...this.common, variant: "ovh-mks", cloudProject: s.cloudProject,
        network: this.network ? { networkId: this.network.networkId, nodesSubnetId: this.network.subnetIds.backend, loadBalancersSubnetId: this.network.subnetIds.public } : undefined,
        nodePool: { flavor: k.nodeFlavor ?? "b3-16", minNodes: k.autoscale?.minNodes ?? 3, maxNodes: k.autoscale?.maxNodes ?? 3 },
        workload, helmReleases: k.helmReleases,
      }, this.rootOpts);
      return { apiEndpoint: platform.apiEndpoint, kubeconfig: platform.kubeconfig };
    }
    const servers = this.fleetByRole.get("k3s-server") ?? this.fail("k3s needs a k3s-server fleet");
    const agents = this.fleetByRole.get("k3s-agent");
    if (servers.count !== k.servers || (agents?.count ?? 0) !== k.agents) this.fail("k3s server/agent counts differ from their fleets");
    const platform = new K8sPlatform("k8s", {
      ...this.common, variant: "k3s",
      network: this.network ? { networkId: this.network.networkId } : undefined,
      k3s: {
        servers: k.servers, agents: k.agents, serverFlavor: servers.offer, agentFlavor: agents?.offer ?? servers.offer,
        token: deriveSecret(s.dbPassword, "k3s-token"), serverIps: this.fixedIps("k3s-server", k.servers),
        agentIps: k.agents > 0 ? this.fixedIps("k3s-agent", k.agents) : undefined,
      },
      workload, helmReleases: k.helmReleases, sshPublicKey: s.sshPublicKey,
    }, this.rootOpts);
    this.machines["k3s-server"] = Array.from({ length: k.servers }, (_, i) => machineName(s.stack, "k3s-server", i));
    if (agents) this.machines["k3s-agent"] = Array.from({ length: k.agents }, (_, i) => machineName(s.stack, "k3s-agent", i));
    return { apiEndpoint: platform.apiEndpoint };
  }

  private fleet(f: FleetSpec, extra: pulumi.Output<ServiceBundle>[], protect = false): VpsFleet {
    const { s, t } = this;
    const own: ServiceBundle[] = f.services.filter((x) => !componentServices.has(x)).map((x) => {
      const make = appServices[x] ?? this.fail(`no bundle for service '${x}' of role '${f.role}'`);
      return make({ role: f.role, stack: s.stack, pm2Instances: t.pm2?.instances });
    });
    if (t.monitoring) own.push({ packages: ["prometheus-node-exporter"], files: [], commands: [] });
    const keys = s.sshPublicKey ? [s.sshPublicKey] : undefined;
    const fixedIps = f.variant === "public-cloud" ? this.fixedIps(f.role, f.count) : undefined;
    const fleet = new VpsFleet(f.role, {
      ...this.common, role: f.role, count: f.count, ...this.machineOpts(f), fixedIps,
      publicNetwork: f.variant === "public-cloud" ? true : undefined,
      userData: Array.from({ length: f.count }, (_, i) => pulumi.all(extra).apply((bundles) =>
        bundleToCloudInit(machineName(s.stack, f.role, i), mergeBundles([...own, ...bundles]), keys))),
    }, { ...this.rootOpts, protect });
    this.machines[f.role] = fleet.names;
    this.inventory.push({ role: f.role, addresses: fleet.addresses });
    return fleet;
  }

  private monitoringBundle(): pulumi.Output<ServiceBundle> {
    const { t, s } = this;
    const roadmap = getRoadmap(this.phase.roadmap);
    const inventory = pulumi.all(this.inventory.map((x) => pulumi.all(x.addresses).apply((a) => ({ role: x.role, addresses: a }))));
    return inventory.apply((inv) => {
      const files = [
        { path: "/etc/prometheus/prometheus.yml", content: renderPrometheusYml({
          scrapeIntervalSeconds: 15, evaluationIntervalSeconds: 15, ruleFiles: ["/etc/prometheus/rules/probatio.yml"],
          alertmanagers: t.monitoring?.alertmanager ? ["127.0.0.1:9093"] : [],
          externalLabels: { stack: s.stack, roadmap: this.phase.roadmap, phase: String(this.phase.phase) },
          targets: [
            { job: "prometheus", targets: ["127.0.0.1:9090"] },
            ...inv.filter((x) => x.addresses.length > 0).map((x) => ({ job: `node-${x.role}`, targets: x.addresses.map((a) => `${a}:${ports.nodeExporter}`), labels: { role: x.role } })),
          ],
        }) },
        { path: "/etc/prometheus/rules/probatio.yml", content: renderAlertRules({ ...roadmap.alerts, availabilityPercent: this.phase.targets.availability }, `${this.phase.roadmap}-${this.phase.phase}`) },
      ];
      const packages = ["prometheus", "prometheus-node-exporter"];
      const commands = ["systemctl restart prometheus"];
      if (t.monitoring?.alertmanager) {
        packages.push("prometheus-alertmanager");
        files.push({ path: "/etc/prometheus/alertmanager.yml", content: renderAlertmanagerYml({ receivers: [{ name: "oncall-email", kind: "email", target: s.alertEmail ?? "root@localhost" }], smtpSmarthost: "localhost:25", smtpFrom: `alertmanager@${s.stack}` }) });
        commands.push("systemctl restart prometheus-alertmanager");
      }
      if (t.monitoring?.grafana) {
        commands.push(
          "install -d -m 0755 /etc/apt/keyrings && curl -fsSL https://apt.grafana.com/gpg.key | gpg --dearmor -o /etc/apt/keyrings/grafana.gpg",
          "echo 'deb [signed-by=/etc/apt/keyrings/grafana.gpg] https://apt.grafana.com stable main' > /etc/apt/sources.list.d/grafana.list",
          "apt-get update && apt-get install -y grafana && systemctl enable --now grafana-server",
        );
        packages.push("curl", "gpg");
      }
      return { packages, files, commands };
    });
  }
}
