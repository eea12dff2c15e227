import type { AlertThresholds } from "../../components/config/monitoring";

/** The roadmaps probatio carries, as typed data. One source for programs, `plan`, migrations and docs. */

export type RoadmapId = "probatio" | "koprogo";

/** A closed or open range from a seed ("500-1000", "100000+": max undefined). */
export interface Range {
  readonly min: number;
  readonly max?: number;
}

export interface MachineSize {
  readonly vcpu: number;
  readonly ramGb: number;
  readonly diskGb: number;
}

/** How a machine is bought: a classic OVH VPS order, or an OVH Public Cloud (OpenStack) instance. */
export type MachineVariant = "ovh-vps" | "public-cloud";

/** N machines of one role. */
export interface FleetSpec {
  readonly role: string;
  readonly count: number;
  readonly size: MachineSize;
  readonly variant: MachineVariant;
  /** OVH VPS plan code (ovh-vps) or Public Cloud flavour name (public-cloud); also its key in the price table. */
  readonly offer: string;
  /** What runs on these machines (rendered into their cloud-init). */
  readonly services: readonly string[];
}

export interface PostgresSpec {
  /** self-managed (Debian packages on our machines), managed (OVH Cloud Databases), compose (a Docker Compose service). */
  readonly mode: "self-managed" | "managed" | "compose";
  readonly version: number;
  /** Machine role that runs the primary (self-managed). */
  readonly primaryRole?: string;
  /** Standbys (self-managed): one entry per standby. */
  readonly standbys: readonly ("sync" | "async")[];
  readonly maxConnections: number;
  readonly sharedBuffers?: string;
  readonly pgbouncer?: { readonly poolSize: number; readonly port: number };
  /** Base backup + WAL archive schedule (cron) to object storage. */
  readonly backupCron: string;
  readonly backupRetentionDays: number;
  /** Managed: OVH plan and node count (primary + replicas). */
  readonly managedPlan?: string;
  readonly managedNodes?: number;
  readonly managedFlavor?: string;
}

/** Redis on the machines of `role`: as many nodes as that fleet has machines (1, or 3 with Sentinel). */
export interface RedisSpec {
  readonly sentinel: boolean;
  readonly quorum?: number;
  readonly maxmemoryPolicy: string;
  readonly role: string;
  readonly inCluster?: boolean;
}

/** HAProxy on the machines of `role`: one node, or two sharing a VRRP virtual IP (the fleet's count says which). */
export interface HaproxyLoadBalancerSpec {
  readonly kind: "haproxy";
  readonly role: string;
  readonly backendRole: string;
  readonly backendPort: number;
  /** VRRP virtual router id (2 nodes). Default DEFAULT_VRRP_ROUTER_ID (lib/defaults). */
  readonly vrrpRouterId?: number;
  /** Health checks of the backends. Default DEFAULT_HEALTH_CHECK (lib/defaults). */
  readonly healthCheck?: { readonly intervalMs: number; readonly fall: number; readonly rise: number };
}

/** OVH's managed (Octavia) load balancer in front of `backendRole`, or the Kubernetes Service's on OVH MKS. */
export interface ManagedLoadBalancerSpec {
  readonly kind: "managed";
  readonly backendRole: string;
  readonly backendPort: number;
  readonly flavor?: string;
}

export type LoadBalancerSpec = HaproxyLoadBalancerSpec | ManagedLoadBalancerSpec;

/** The application's workload on Kubernetes: pod autoscaling and the Helm releases beside it. */
interface K8sWorkloadSpec {
  readonly hpa?: { readonly minPods: number; readonly maxPods: number; readonly cpuTargetPercent: number };
  readonly helmReleases: readonly string[];
}

/** OVH Managed Kubernetes: node pools autoscaled between the bounds. */
export interface MksSpec extends K8sWorkloadSpec {
  readonly kind: "ovh-mks";
  readonly nodeFlavor?: string;
  readonly autoscale?: { readonly minNodes: number; readonly maxNodes: number };
}

/** K3s on the machines of the `k3s-server` and `k3s-agent` fleets (their counts are the servers and agents). */
export interface K3sSpec extends K8sWorkloadSpec {
  readonly kind: "k3s";
}

export type K8sSpec = MksSpec | K3sSpec;

export interface NetworkSpec {
  readonly vpcCidr: string;
  readonly subnets: Readonly<Record<string, string>>;
  readonly natGateway: boolean;
  readonly zeroTrust: boolean;
  /** Tiers with no route to the internet (the seed's phase 4: the database and HSM subnets). */
  readonly isolatedTiers?: readonly string[];
}

export interface WormSpec {
  readonly backend: "ovh" | "aws";
  readonly retentionYears: number;
  readonly mode: "COMPLIANCE" | "GOVERNANCE";
}

/** The backends' autoscaling rule (ProbatioVault phase 3; its consumer is the autoscaler of the HA issue). */
export interface ScalingRule {
  readonly min: number;
  readonly max: number;
  readonly scaleUpCpuPercent: number;
  readonly scaleUpForMinutes: number;
  readonly scaleDownCpuPercent: number;
  readonly scaleDownForMinutes: number;
}

/** A CDN in front of the phase's entry point (ProbatioVault: Cloudflare Free from phase 1, 30-day cache). */
export interface CdnSpec {
  readonly provider: "cloudflare-free" | "cloudflare-pro" | "cloudflare-business";
  readonly cacheDays: number;
}

/** A billed item that is not a machine of a fleet (programs/prices: one price, with its source, per key). */
export interface ExtraCost {
  readonly item: string;
  readonly price: string;
  /** Default 1. */
  readonly quantity?: number;
}

/** What one environment (one stack) of a phase deploys. */
export interface Topology {
  readonly fleets: readonly FleetSpec[];
  readonly network?: NetworkSpec;
  readonly postgres?: PostgresSpec;
  readonly redis?: RedisSpec;
  readonly loadBalancer?: LoadBalancerSpec;
  readonly k8s?: K8sSpec;
  readonly hsm?: { readonly keys: readonly string[] };
  readonly worm?: WormSpec;
  readonly scaling?: ScalingRule;
  readonly monitoring?: { readonly prometheus: boolean; readonly grafana: boolean; readonly alertmanager: boolean };
  readonly pm2?: { readonly instances: "max" | number };
  /** The CDN in front of the entry point (its consumer is the edge: Cloudflare resources); today counted in costs. */
  readonly cdn?: CdnSpec;
  readonly compose?: { readonly services: readonly string[]; readonly backendMemoryLimit?: string; readonly traefikMetrics: boolean };
  /** A protected Object Storage bucket for backups (KoproGo phase 4). */
  readonly backupBucket?: boolean;
  /** Items billed outside machines (managed services, storage, CDN): `price` is the item's key in the price table. */
  readonly extraCosts?: readonly ExtraCost[];
}

export interface Targets {
  readonly users: Range;
  readonly usersUnit: "users" | "condominiums";
  readonly requestsPerSecond?: Range;
  /** Availability target, percent. */
  readonly availability: number;
  readonly latencyP95Ms?: number;
  /** The seed's monthly cost for the phase, EUR. */
  readonly monthlyCostEur: number;
  /** The seed's cost as written, when it is a range or contradicts itself. */
  readonly costAsWritten?: string;
}

/**
 * One of the seed's signals to move on to the next phase. `says` is the seed's wording.
 * - "metric": a PromQL expression (one value: the worst machine's) beyond `above` for `forMinutes`;
 * - "count": a figure of the business no machine measures (users, condominiums), reported by the operator;
 * - "judged": what only the operator can judge (a contract's SLA, the team), asked as a question.
 */
export type Gate =
  | {
      readonly kind: "metric";
      readonly says: string;
      /** Its name in a metrics file (`probatio advise --metrics`). */
      readonly key: string;
      readonly query: string;
      readonly above: number;
      readonly forMinutes: number;
      readonly unit: string;
    }
  | { readonly kind: "count"; readonly says: string; readonly key: "users" | "condominiums"; readonly above: number }
  | { readonly kind: "judged"; readonly says: string; readonly question: string };

/** The seed's wording of a phase's gates, each once (one sentence may be two gates: "CPU/RAM > 80 %"). */
export const gateWording = (gates: readonly Gate[]): string[] => [...new Set(gates.map((g) => g.says))];

export interface Phase {
  readonly roadmap: RoadmapId;
  readonly phase: number;
  readonly name: string;
  readonly summary: string;
  /** Environments (stack kinds) of this phase; the first is the default. */
  readonly environments: Readonly<Record<string, Topology>>;
  /**
   * The environment a stack not named after one (`prod`, the stack a migration moves) deploys, when the phase has
   * no `prod`: where production runs in that phase. Default: the first environment.
   */
  readonly productionEnvironment?: string;
  readonly targets: Targets;
  /** When to move on to the next phase (ProbatioVault "Quand passer", KoproGo "Quand upgrader"), typed (gates.ts). */
  readonly gatesToNext: readonly Gate[];
  /** Choices made where the seed is ambiguous or contradicts itself. */
  readonly notes: readonly string[];
}

/** Alert thresholds taken from the seed's "when to move on" signals (the availability comes from each phase). */
export type AlertSpec = Omit<AlertThresholds, "availabilityPercent">;

/**
 * The seed's own measured or stated throughput of one unit of application capacity, from which every phase's
 * capacity is computed (offline/capacity.ts) and compared with the phase's targets.
 */
export interface CapacityBasis {
  /** What one unit is: an application machine (one Node.js process each without PM2), or a vCPU of one. */
  readonly per: "application machine" | "vCPU";
  readonly requestsPerSecond: Range;
  /** PM2's cluster mode multiplies a machine's throughput (ProbatioVault phase 1: "x2 capacité Backend/API"). */
  readonly pm2Factor?: number;
  /** Users (or condominiums) served per request a second, from the same measurement. */
  readonly usersPerRequestPerSecond: Range;
  readonly source: string;
}

export interface Roadmap {
  readonly id: RoadmapId;
  readonly capacity: CapacityBasis;
  readonly alerts: AlertSpec;
  readonly title: string;
  readonly seed: string;
  readonly region: string;
  readonly phases: readonly Phase[];
}
