import { gate } from "./gates";
import { DEFAULT_REGION } from "../../lib/defaults";
import { Roadmap, Topology } from "./types";

/**
 * KoproGo, phases 1-4 (seeds/001_d21dc57de914fcda.txt). The seed's overview, its per-phase sections and its
 * comparison table disagree on several ranges; each phase's notes say which figure probatio records and why.
 */

const composeStack = ["traefik", "postgresql-15", "backend"];
const composeServices = ["docker-compose"];

const phase1: Topology = {
  fleets: [
    {
      role: "app",
      count: 1,
      size: { vcpu: 1, ramGb: 2, diskGb: 40 },
      variant: "ovh-vps",
      offer: "vps-value-1-2-40",
      services: composeServices,
    },
  ],
  postgres: {
    mode: "compose",
    version: 15,
    primaryRole: "app",
    standbys: [],
    maxConnections: 100,
    backupCron: "0 3 * * *",
    backupRetentionDays: 14,
  },
  compose: { services: composeStack, traefikMetrics: false },
};

const phase2: Topology = {
  fleets: [
    {
      role: "app",
      count: 1,
      size: { vcpu: 2, ramGb: 4, diskGb: 80 },
      variant: "ovh-vps",
      offer: "vps-essential-2-4-80",
      services: composeServices,
    },
  ],
  postgres: { ...phase1.postgres!, sharedBuffers: "1GB" },
  compose: { services: composeStack, backendMemoryLimit: "500M", traefikMetrics: true },
};

const k3sHelm = ["postgresql-ha", "dragonfly", "kube-prometheus-stack"];

const phase3Dev: Topology = {
  fleets: [
    {
      role: "k3s-server",
      count: 1,
      size: { vcpu: 2, ramGb: 7, diskGb: 50 },
      variant: "public-cloud",
      offer: "b2-7",
      services: ["k3s-server"],
    },
    {
      role: "k3s-agent",
      count: 1,
      size: { vcpu: 4, ramGb: 15, diskGb: 100 },
      variant: "public-cloud",
      offer: "b2-15",
      services: ["k3s-agent"],
    },
  ],
  k8s: { kind: "k3s", helmReleases: k3sHelm },
  monitoring: { prometheus: true, grafana: true, alertmanager: false },
};

const phase3Staging: Topology = {
  ...phase3Dev,
  fleets: [
    {
      role: "k3s-server",
      count: 1,
      size: { vcpu: 4, ramGb: 15, diskGb: 100 },
      variant: "public-cloud",
      offer: "b2-15",
      services: ["k3s-server"],
    },
    {
      role: "k3s-agent",
      count: 2,
      size: { vcpu: 4, ramGb: 30, diskGb: 200 },
      variant: "public-cloud",
      offer: "r2-30",
      services: ["k3s-agent"],
    },
  ],
  k8s: { kind: "k3s", helmReleases: k3sHelm },
};

const phase4: Topology = {
  fleets: [
    {
      role: "k3s-server",
      count: 3,
      size: { vcpu: 8, ramGb: 30, diskGb: 200 },
      variant: "public-cloud",
      offer: "b2-30",
      services: ["k3s-server"],
    },
    {
      role: "k3s-agent",
      count: 3,
      size: { vcpu: 8, ramGb: 30, diskGb: 200 },
      variant: "public-cloud",
      offer: "b2-30",
      services: ["k3s-agent"],
    },
  ],
  network: { vpcCidr: "10.0.0.0/16", subnets: { nodes: "10.0.10.0/24" }, natGateway: true, zeroTrust: true },
  loadBalancer: { kind: "managed", backendRole: "k3s-agent", backendPort: 443, flavor: "small" },
  k8s: {
    kind: "k3s",
    hpa: { minPods: 3, maxPods: 20, cpuTargetPercent: 70 },
    helmReleases: ["postgresql-ha", "dragonfly", "longhorn", "kepler", "kube-prometheus-stack", "loki"],
  },
  monitoring: { prometheus: true, grafana: true, alertmanager: true },
  backupBucket: true,
  extraCosts: [
    { item: "Load Balancer OVH", price: "managed-load-balancer" },
    { item: "Object Storage (backups)", price: "object-storage-backups-k3s" },
  ],
};

export const koprogoRoadmap: Roadmap = {
  id: "koprogo",
  title: "KoproGo",
  seed: "001_d21dc57de914fcda.txt",
  region: DEFAULT_REGION,
  capacity: {
    per: "vCPU",
    // Phase 1's load test: 287 req/s sustained on 1 vCPU (CPU 8 % average, 25 % peak: the figure is what was offered).
    requestsPerSecond: { min: 287, max: 287 },
    // Phase 1: 1,000-1,500 condominiums at 287 req/s.
    usersPerRequestPerSecond: { min: 3.48, max: 5.23 },
    source: "seed, phase 1 'Capacité (Validée par Tests de Charge)': 287 req/s on 1 vCPU for 1,000-1,500 condominiums",
  },
  // "RAM > 85 % constant", "CPU load > 1.5 constant (1 vCPU)", "Disk > 80 %", "Query latency P99 > 1000ms".
  alerts: { cpuPercent: 90, memoryPercent: 85, diskPercent: 80, loadPerCpu: 1.5, latencySeconds: 1, latencyQuantile: 0.99, forMinutes: 15 },
  phases: [
    {
      roadmap: "koprogo",
      phase: 1,
      name: "MVP - VPS Simple",
      summary: "One VPS (1 vCPU, 2 GB, 40 GB SSD) running Docker Compose with Traefik, PostgreSQL 15 and the Rust backend.",
      environments: { prod: phase1 },
      targets: {
        users: { min: 0, max: 1500 },
        usersUnit: "condominiums",
        requestsPerSecond: { min: 287, max: 287 },
        availability: 99.74,
        monthlyCostEur: 5,
      },
      gatesToNext: [
        gate.memory(85, "RAM > 85 % constantly"),
        gate.loadPerCpu(1.5, "CPU load > 1.5 constantly (1 vCPU)"),
        gate.disk(80, "disk > 80 %"),
        gate.count("condominiums", 1500, "> 1,500 active condominiums"),
        // Traefik's own histogram (the Compose phases expose Traefik's metrics to Prometheus).
        gate.latency(0.99, 1, "query latency P99 > 1000 ms", "traefik_entrypoint_request_duration_seconds_bucket"),
      ],
      notes: [
        "Capacity: the overview and phase section say 0-1,500 condominiums, the comparison table 0-100; probatio records 0-1,500 (validated by the seed's load test: 287 req/s, 99.74 %).",
        "The comparison table says 2 vCPU where the phase section says 1 vCPU; the phase section's spec (1 vCPU, 2 GB, 40 GB) is deployed.",
      ],
    },
    {
      roadmap: "koprogo",
      phase: 2,
      name: "Growth - VPS Upgraded",
      summary:
        "The bigger VPS (2 vCPU, 4 GB, 80 GB) with PostgreSQL shared_buffers=1GB, backend memory limit 500M, Traefik Prometheus metrics.",
      environments: { prod: phase2 },
      targets: { users: { min: 1500, max: 5000 }, usersUnit: "condominiums", availability: 99.9, monthlyCostEur: 15 },
      gatesToNext: [
        gate.count("condominiums", 500, "500 condominiums"),
        gate.judged("high availability needed", "Is high availability needed?"),
        gate.judged("multiple geographic regions", "Are several geographic regions needed?"),
        gate.judged("dedicated DevOps team", "Is there a dedicated DevOps team?"),
      ],
      notes: [
        "Capacity: overview 1,500-5,000, phase section 500-2,000 (and 3,000-5,000 estimated), table 100-500; probatio records the overview's 1,500-5,000.",
      ],
    },
    {
      roadmap: "koprogo",
      phase: 3,
      name: "Scale - Kubernetes Dev",
      summary:
        "K3s on Public Cloud instances (dev: 1 server + 1 agent; staging: 1 + 2) with Helm releases for PostgreSQL HA (Patroni), DragonflyDB and Prometheus + Grafana.",
      environments: { dev: phase3Dev, staging: phase3Staging },
      // The seed's move to phase 4 is "staging -> prod": in phase 3, production runs on staging (1 server + 2 agents).
      productionEnvironment: "staging",
      targets: {
        users: { min: 500, max: 2000 },
        usersUnit: "condominiums",
        availability: 99.95,
        monthlyCostEur: 30,
        costAsWritten: "~30 EUR (dev) or ~90 EUR (staging)",
      },
      gatesToNext: [
        gate.count("condominiums", 2000, "2,000 condominiums"),
        gate.judged("SLA > 99.9 % required", "Is an SLA above 99.9 % required?"),
        gate.judged("strict compliance", "Is strict compliance required?"),
        gate.judged("mature technical team", "Is the technical team mature (Kubernetes in production)?"),
      ],
      notes: [
        "Availability: overview 99.95 % target, comparison table SLA 99.5 %; probatio records the target (99.95 %) and the plan shows both.",
        "Cost: 30 EUR is the dev environment; staging is ~90 EUR.",
        "A stack named after no environment (prod, the stack migrations move) deploys staging: the seed's phase 4 move is 'Réplication DB staging → prod'.",
      ],
    },
    {
      roadmap: "koprogo",
      phase: 4,
      name: "Enterprise - Kubernetes Production HA",
      summary:
        "K3s HA (3 servers with embedded etcd, 3 workers of 8 vCPU/30 GB), OVH load balancer, Object Storage backups, Longhorn, network policies.",
      environments: { prod: phase4 },
      targets: { users: { min: 2000 }, usersUnit: "condominiums", availability: 99.99, monthlyCostEur: 270 },
      gatesToNext: [],
      notes: [
        "Availability: overview 99.99 % target, phase section and table SLA 99.95 %; probatio records the 99.99 % target.",
        "Servers are sized like workers (8 vCPU/30 GB) so that the table's '36+ vCPU, 180 GB+' holds.",
      ],
    },
  ],
};
