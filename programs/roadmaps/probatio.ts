import { DEFAULT_REGION, DEFAULT_VRRP_ROUTER_ID } from "../../lib/defaults";
import { cloud, D2_2, D2_4, D2_8, fleet, VPS_1, VPS_2 } from "./machines";
import { gate } from "./gates";
import { PostgresSpec, Roadmap, Topology } from "./types";

/**
 * ProbatioVault, phases 0-4 (seeds/000_f588d39bd41b9f66.txt). Sizes are the seed's; where it gives a range
 * ("VPS 4-8GB") production takes the top of the range and test the bottom. Prices are list-price assumptions
 * (EUR excl. VAT) chosen so that each phase's itemised estimate can be compared with the seed's figure.
 */

/** The small private network of the VPS phases (2-3); 10.1/16 so that it never overlaps phase 4's 10.0/16 VPC. */
const vpsPhaseNetwork = { vpcCidr: "10.1.0.0/16", subnets: { private: "10.1.0.0/24" }, natGateway: true, zeroTrust: false } as const;

const DAILY_03H = "0 3 * * *";
const EVERY_6H = "0 */6 * * *";

const phase0Prod: Topology = {
  fleets: [
    fleet("backend", 1, VPS_1.size, VPS_1.offer, ["backend"]),
    fleet("api", 1, VPS_1.size, VPS_1.offer, ["api"]),
    fleet("database", 1, VPS_1.size, VPS_1.offer, ["postgresql"]),
    fleet("ci-runner", 1, VPS_1.size, VPS_1.offer, ["gitlab-runner"]),
  ],
  postgres: {
    mode: "self-managed",
    version: 15,
    primaryRole: "database",
    standbys: [],
    maxConnections: 100,
    backupCron: DAILY_03H,
    backupRetentionDays: 30,
  },
  extraCosts: [{ item: "Object Storage (daily PostgreSQL backups)", price: "object-storage-backups-daily" }],
};

const phase1Prod: Topology = {
  ...phase0Prod,
  fleets: [
    ...phase0Prod.fleets,
    fleet("cache", 1, VPS_1.size, VPS_1.offer, ["redis"]),
    fleet("monitoring", 1, VPS_1.size, VPS_1.offer, ["prometheus", "grafana"]),
  ],
  postgres: { ...phase0Prod.postgres!, maxConnections: 200, pgbouncer: { poolSize: 50, port: 6432 } },
  redis: { sentinel: false, maxmemoryPolicy: "allkeys-lru", role: "cache" },
  pm2: { instances: "max" },
  cdn: { provider: "cloudflare-free", cacheDays: 30 },
  monitoring: { prometheus: true, grafana: true, alertmanager: false },
  extraCosts: [
    { item: "Object Storage (daily PostgreSQL backups)", price: "object-storage-backups-daily" },
    { item: "Cloudflare Free (CDN)", price: "cloudflare-free" },
  ],
};

/** Phase 2: one asynchronous standby; phase 3 adds a synchronous one (the database fleets follow). */
const phase2Standbys: PostgresSpec["standbys"] = ["async"];
const phase3Standbys: PostgresSpec["standbys"] = ["sync", "async"];

const phase2Prod: Topology = {
  network: vpsPhaseNetwork,
  fleets: [
    cloud("lb", 1, D2_2, "d2-2", ["haproxy"]),
    cloud("backend", 3, D2_8, "d2-8", ["backend", "api"]),
    cloud("cache", 1, D2_2, "d2-2", ["redis"]),
    cloud("pgbouncer", 1, D2_2, "d2-2", ["pgbouncer"]),
    // The primary and one machine per standby.
    cloud("database", 1 + phase2Standbys.length, D2_8, "d2-8", ["postgresql"]),
    cloud("ci-runner", 1, D2_4, "d2-4", ["gitlab-runner"]),
    cloud("monitoring", 1, D2_4, "d2-4", ["prometheus", "grafana"]),
  ],
  postgres: {
    mode: "self-managed",
    version: 15,
    primaryRole: "database",
    standbys: phase2Standbys,
    maxConnections: 200,
    pgbouncer: { poolSize: 50, port: 6432 },
    backupCron: EVERY_6H,
    backupRetentionDays: 30,
  },
  redis: { sentinel: false, maxmemoryPolicy: "allkeys-lru", role: "cache" },
  loadBalancer: { kind: "haproxy", role: "lb", backendRole: "backend", backendPort: 3000 },
  pm2: { instances: "max" },
  cdn: { provider: "cloudflare-free", cacheDays: 30 },
  monitoring: { prometheus: true, grafana: true, alertmanager: false },
  extraCosts: [
    { item: "Object Storage (PostgreSQL backups every 6 h)", price: "object-storage-backups-6h" },
    { item: "Failover IP", price: "failover-ip" },
  ],
};

const phase3Prod: Topology = {
  ...phase2Prod,
  fleets: [
    cloud("lb", 2, D2_2, "d2-2", ["haproxy", "keepalived"]),
    cloud("backend", 3, D2_8, "d2-8", ["backend", "api"]),
    cloud("cache", 3, D2_2, "d2-2", ["redis", "redis-sentinel"]),
    cloud("pgbouncer", 1, D2_2, "d2-2", ["pgbouncer"]),
    cloud("database", 1 + phase3Standbys.length, D2_8, "d2-8", ["postgresql"]),
    cloud("ci-runner", 1, D2_4, "d2-4", ["gitlab-runner"]),
    cloud("monitoring", 1, D2_8, "d2-8", ["prometheus", "grafana", "alertmanager"]),
  ],
  postgres: { ...phase2Prod.postgres!, standbys: phase3Standbys },
  redis: { sentinel: true, quorum: 2, maxmemoryPolicy: "allkeys-lru", role: "cache" },
  loadBalancer: { kind: "haproxy", role: "lb", backendRole: "backend", backendPort: 3000, vrrpRouterId: DEFAULT_VRRP_ROUTER_ID },
  scaling: { min: 3, max: 10, scaleUpCpuPercent: 70, scaleUpForMinutes: 5, scaleDownCpuPercent: 30, scaleDownForMinutes: 10 },
  monitoring: { prometheus: true, grafana: true, alertmanager: true },
  extraCosts: [
    { item: "Object Storage (PostgreSQL backups every 6 h)", price: "object-storage-backups-6h-ha" },
    { item: "Failover IP (VRRP virtual IP)", price: "failover-ip" },
    { item: "Alerting channels (SMS, PagerDuty)", price: "alerting-channels" },
    { item: "Backend headroom (autoscaling above 3 instances: one more backend on average)", price: "d2-8" },
  ],
};

const phase4Prod: Topology = {
  fleets: [
    {
      role: "cache",
      count: 3,
      size: { vcpu: 2, ramGb: 7, diskGb: 50 },
      variant: "public-cloud",
      offer: "b3-8",
      services: ["redis", "redis-sentinel"],
    },
  ],
  network: {
    vpcCidr: "10.0.0.0/16",
    subnets: { public: "10.0.1.0/24", backend: "10.0.10.0/24", database: "10.0.20.0/24", hsm: "10.0.30.0/24" },
    natGateway: true,
    zeroTrust: true,
    isolatedTiers: ["database", "hsm"],
  },
  loadBalancer: { kind: "managed", backendRole: "backend", backendPort: 443, flavor: "small" },
  k8s: {
    kind: "ovh-mks",
    nodeFlavor: "b3-16",
    autoscale: { minNodes: 3, maxNodes: 50 },
    hpa: { minPods: 3, maxPods: 50, cpuTargetPercent: 70 },
    helmReleases: [],
  },
  redis: { sentinel: true, quorum: 2, maxmemoryPolicy: "noeviction", role: "cache" },
  postgres: {
    mode: "managed",
    version: 16,
    standbys: ["sync", "async"],
    maxConnections: 400,
    backupCron: EVERY_6H,
    backupRetentionDays: 30,
    // OVH Cloud Databases: "essential" has 1 node, "business" 2, "enterprise" 3 (the seed's "1 cluster (3 nodes)").
    managedPlan: "enterprise",
    managedNodes: 3,
    managedFlavor: "db1-15",
  },
  hsm: { keys: ["master-key", "signing-key"] },
  worm: { backend: "ovh", retentionYears: 10, mode: "COMPLIANCE" },
  monitoring: { prometheus: true, grafana: true, alertmanager: true },
  cdn: { provider: "cloudflare-business", cacheDays: 30 },
  extraCosts: [
    { item: "K8s Managed nodes (3 at the floor; ~30-50 EUR each)", price: "k8s-managed-nodes-floor" },
    { item: "PostgreSQL Managed (1 cluster, 3 nodes)", price: "postgresql-managed-3-nodes" },
    { item: "HSM / OVHcloud KMS", price: "hsm-kms" },
    { item: "Load Balancer OVH (managed)", price: "managed-load-balancer" },
    { item: "NAT Gateway (2, HA)", price: "nat-gateway-ha" },
    { item: "VPC + network", price: "vpc-network" },
    { item: "Monitoring/Logs", price: "monitoring-logs" },
    { item: "WORM storage (~500 GB)", price: "worm-storage-500gb" },
    { item: "Cloudflare Business", price: "cloudflare-business" },
  ],
};

export const probatioRoadmap: Roadmap = {
  id: "probatio",
  title: "ProbatioVault",
  seed: "000_f588d39bd41b9f66.txt",
  region: DEFAULT_REGION,
  capacity: {
    per: "application machine",
    // Phase 0: "~800-1200 req/s" on its two application VPS (backend, api), one Node.js process each.
    requestsPerSecond: { min: 400, max: 600 },
    pm2Factor: 2,
    // Phase 0: 500-1000 simultaneous users for 800-1200 req/s.
    usersPerRequestPerSecond: { min: 0.625, max: 0.833 },
    source: "seed, phase 0 'Capacités' (800-1200 req/s, 500-1000 users, on 2 application VPS) and phase 1 'PM2: x2 capacité Backend/API'",
  },
  // "CPU/RAM > 80 % en permanence", "latence > 1s" (Quand passer Phase 1); disk is not in the seed: 80 %.
  alerts: { cpuPercent: 80, memoryPercent: 80, diskPercent: 80, latencySeconds: 1, latencyQuantile: 0.95, forMinutes: 15 },
  phases: [
    {
      roadmap: "probatio",
      phase: 0,
      name: "VPS classiques (POC/MVP)",
      summary: "Classic OVH VPS: dev all-in-one, test, and 4 separate production VPS; daily PostgreSQL backup to Object Storage.",
      environments: {
        prod: phase0Prod,
        dev: {
          fleets: [fleet("allinone", 1, VPS_2.size, VPS_2.offer, ["backend", "api", "postgresql", "sonarqube", "gitlab-runner"])],
          postgres: { ...phase0Prod.postgres!, primaryRole: "allinone" },
          extraCosts: [{ item: "Object Storage (daily PostgreSQL backups)", price: "object-storage-backups-small" }],
        },
        test: {
          fleets: [fleet("allinone", 1, VPS_1.size, VPS_1.offer, ["backend", "api", "postgresql"])],
          postgres: { ...phase0Prod.postgres!, primaryRole: "allinone" },
          extraCosts: [{ item: "Object Storage (daily PostgreSQL backups)", price: "object-storage-backups-small" }],
        },
      },
      targets: {
        users: { min: 500, max: 1000 },
        usersUnit: "users",
        requestsPerSecond: { min: 800, max: 1200 },
        availability: 99.5,
        monthlyCostEur: 70,
      },
      gatesToNext: [
        gate.count("users", 500, "500-1000 users reached"),
        gate.latency(0.95, 1, "degraded performance (latency > 1 s)"),
        gate.cpu(80, "CPU/RAM > 80 % permanently"),
        gate.memory(80, "CPU/RAM > 80 % permanently"),
      ],
      notes: [
        "~70 EUR/month is the seed's figure for the three environments together (dev 12 GB, test 4-8 GB, 4 prod VPS).",
        "Ranges 'VPS 4-8GB' are deployed at 8 GB in prod and 4 GB in test; the CI runner (2-4 GB) at 4 GB.",
      ],
    },
    {
      roadmap: "probatio",
      phase: 1,
      name: "Optimisations",
      summary: "Phase 0 plus PM2 cluster mode, a Redis cache, pgBouncer (max_connections 200, pool 50), CDN, Prometheus + Grafana.",
      environments: { prod: phase1Prod },
      targets: {
        users: { min: 1500, max: 2000 },
        usersUnit: "users",
        requestsPerSecond: { min: 1500, max: 2500 },
        availability: 99.7,
        monthlyCostEur: 90,
      },
      gatesToNext: [
        gate.count("users", 1000, "> 1000 users"),
        gate.judged("99.9 % SLA required by contract", "Does a contract now require a 99.9 % SLA?"),
        gate.judged("customers demand guaranteed availability", "Do customers demand guaranteed availability?"),
      ],
      notes: ["The seed's +20 EUR (Redis, monitoring) is deployed as two small VPS: cache (2 GB) and monitoring (4 GB)."],
    },
    {
      roadmap: "probatio",
      phase: 2,
      name: "Load Balancing & Réplication",
      summary: "HAProxy in front of 3 backends, Redis, pgBouncer, PostgreSQL primary + streaming replica, backups every 6 h.",
      environments: { prod: phase2Prod },
      targets: {
        users: { min: 5000, max: 10000 },
        usersUnit: "users",
        requestsPerSecond: { min: 5000, max: 8000 },
        availability: 99.9,
        monthlyCostEur: 150,
      },
      gatesToNext: [
        gate.count("users", 10000, "> 10000 users (phase 2 capacity)"),
        gate.judged("99.95 % availability required", "Is 99.95 % availability now required?"),
      ],
      notes: [
        "Phases 2-3 run on Public Cloud d2 instances (VPS-sized, VPS-priced) on a private network 10.1.0.0/24, so PostgreSQL, Redis and HAProxy's stats stay off the internet; classic VPS cannot share a private network.",
        "The seed has no 'Quand passer Phase 3' section; the gates are phase 2's capacity ceiling and phase 3's objective.",
        "The seed draws 'Redis (Sentinel)' with 1 node (+2 in phase 3): one Sentinel cannot fail over, so phase 2 deploys a single Redis and phase 3 adds the 3-node Sentinel set.",
      ],
    },
    {
      roadmap: "probatio",
      phase: 3,
      name: "Haute Disponibilité",
      summary:
        "HAProxy pair with a keepalived VRRP virtual IP, backends 3-10, PostgreSQL primary + sync + async standbys, Redis 3 nodes + Sentinel, Alertmanager.",
      environments: { prod: phase3Prod },
      targets: {
        users: { min: 20000, max: 50000 },
        usersUnit: "users",
        requestsPerSecond: { min: 15000, max: 30000 },
        availability: 99.95,
        monthlyCostEur: 250,
      },
      gatesToNext: [
        gate.count("users", 10000, "> 10000 users"),
        gate.judged("SecNumCloud compliance needed", "Is SecNumCloud compliance needed?"),
        gate.judged("infrastructure budget > 500 EUR/month available", "Is an infrastructure budget above 500 EUR/month available?"),
        gate.judged("international expansion planned", "Is international expansion planned?"),
      ],
      notes: [
        "The seed says '+6 VPS' for phase 3; at the floor of 3 backends the topology adds 4 machines (2nd HAProxy, 2 Redis, 1 standby); autoscaling (3-10 backends) is the rest.",
        "The phase 4 prerequisites (phase 2/3 stabilised, DevOps team trained on Kubernetes) are checked by the 3-to-4 migration's preflight.",
      ],
    },
    {
      roadmap: "probatio",
      phase: 4,
      name: "VPC OVH Cloud (objectif final)",
      summary:
        "VPC 10.0.0.0/16 with public/backend/database/HSM subnets, NAT gateway, managed LB, managed Kubernetes (HPA 3-50), Redis 3 nodes, managed PostgreSQL (3 nodes), HSM, WORM storage, zero-trust security groups.",
      environments: { prod: phase4Prod },
      targets: {
        users: { min: 100000 },
        usersUnit: "users",
        requestsPerSecond: { min: 50000 },
        availability: 99.99,
        latencyP95Ms: 100,
        monthlyCostEur: 595,
        costAsWritten: "~300-500 EUR (headline); ~595 EUR (itemised table)",
      },
      gatesToNext: [],
      notes: [
        "Cost: the headline says ~300-500 EUR/month, the itemised table sums to ~595 EUR; probatio records the itemised figure.",
        "WORM storage: the seed draws AWS S3 but also promises 'no transfer outside the EU'; the default backend is OVH Object Storage with Object Lock (sovereign); set probatio:wormBackend=aws for S3.",
        "The cost table lists 'Redis Managed'; the diagram puts a 3-node Redis in the backend subnet: probatio deploys 3 instances there.",
      ],
    },
  ],
};
