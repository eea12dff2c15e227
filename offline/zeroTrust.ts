/**
 * For each of the seed's zero-trust rules (ProbatioVault phase 4: "Security Groups OpenStack (Zero Trust)"), which of
 * what the phase declares enforces it: the security group's rule and the machines it is attached to, and the fence of
 * the managed service where the tier is one (the backend's pods: their NetworkPolicies; the managed database: its IP
 * restrictions; the HSM: OVH's KMS and its credentials). Read from the declared resources, so a fence that is declared
 * but attached to nothing says so instead of counting.
 */
import type { DeclaredResource } from "./mockRun";

export interface SeedRuleCoverage {
  /** The seed's rule, as it says it (its group, direction and port). */
  readonly rule: string;
  /** What enforces it; empty when nothing does. */
  readonly fences: string[];
}

interface SeedRule {
  readonly group: "backend" | "database" | "hsm";
  readonly direction: "ingress" | "egress";
  readonly port?: number;
  readonly says: string;
}

/** The seed's ten rules, in its order. */
export const SEED_ZERO_TRUST: readonly SeedRule[] = [
  { group: "backend", direction: "ingress", port: 443, says: "Backend ingress: port 443 HTTPS from the load balancer only" },
  { group: "backend", direction: "ingress", port: 9100, says: "Backend ingress: port 9100 Prometheus from the monitoring subnet" },
  { group: "backend", direction: "egress", port: 5432, says: "Backend egress: port 5432 PostgreSQL to the database subnet only" },
  { group: "backend", direction: "egress", port: 6379, says: "Backend egress: port 6379 Redis to the backend subnet" },
  { group: "backend", direction: "egress", port: 9000, says: "Backend egress: port 9000 HSM to the HSM subnet (mTLS)" },
  { group: "backend", direction: "egress", port: 443, says: "Backend egress: port 443 HTTPS to the internet through NAT" },
  { group: "database", direction: "ingress", port: 5432, says: "Database ingress: port 5432 PostgreSQL from the backend subnet only" },
  { group: "database", direction: "egress", says: "Database egress: deny all" },
  { group: "hsm", direction: "ingress", port: 9000, says: "HSM ingress: port 9000 from the backend subnet only (mTLS)" },
  { group: "hsm", direction: "egress", says: "HSM egress: deny all" },
];

const of = (resources: readonly DeclaredResource[], type: string) => resources.filter((r) => r.type === type);

/** The coverage of the seed's rules by what a phase declares (an empty list for a phase without the tiers' groups). */
/**
 * Where the seed says 5432 and the database is OVH's managed service: the port the pods' policy opens instead (the
 * service answers on a port of its own), or nothing to add.
 */
function managedPort(policy: DeclaredResource, seed: SeedRule, databaseSubnet?: string): string {
  if (seed.port !== 5432 || seed.direction !== "egress" || !databaseSubnet) return "";
  type Egress = { to?: { ipBlock?: { cidr?: string } }[]; ports?: { port?: number }[] };
  const egress = ((policy.inputs.spec as { egress?: Egress[] } | undefined)?.egress ?? []).filter((e) => e.to?.some((t) => t.ipBlock));
  const port = egress.find((e) => e.to?.some((t) => t.ipBlock?.cidr === databaseSubnet))?.ports?.[0]?.port;
  return port !== undefined && port !== 5432 ? ` (tcp ${port}: the managed PostgreSQL's own port)` : "";
}

export function zeroTrustCoverage(resources: readonly DeclaredResource[]): SeedRuleCoverage[] {
  const groups = of(resources, "openstack:networking/secGroup:SecGroup");
  const tierGroup = (tier: string) => groups.find((g) => g.name === `security-groups-${tier}`);
  if (!tierGroup("backend")) return [];
  const rules = of(resources, "openstack:networking/secGroupRule:SecGroupRule");
  const instances = of(resources, "openstack:compute/instance:Instance");
  const attached = (groupName: string) =>
    instances
      .filter((i) => ((i.inputs.securityGroups as string[] | undefined) ?? []).includes(groupName))
      .map((i) => String(i.inputs.name));
  const policies = of(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy");
  const policy = (name: string) => policies.find((p) => (p.inputs.metadata as { name?: string } | undefined)?.name === name);
  const database = of(resources, "ovh:CloudProject/database:Database")[0];
  const kms = of(resources, "ovh:Okms/okms:Okms")[0];
  const subnets = of(resources, "openstack:networking/subnet:Subnet");
  const databaseSubnet = subnets.find((x) => String(x.inputs.name).endsWith("-database"))?.inputs.cidr as string | undefined;

  return SEED_ZERO_TRUST.map((seed) => {
    const fences: string[] = [];
    const group = tierGroup(seed.group);
    const name = String(group?.inputs.name ?? "");
    const rule = rules.find(
      (r) =>
        r.inputs.securityGroupId === `${group?.name}-id` && r.inputs.direction === seed.direction && r.inputs.portRangeMin === seed.port,
    );
    const machines = attached(name);
    const on = machines.length > 0 ? `attached to ${machines.join(", ")}` : "attached to no machine";
    if (seed.port === undefined) {
      const any = rules.some((r) => r.inputs.securityGroupId === `${group?.name}-id` && r.inputs.direction === "egress");
      if (group && !any) fences.push(`security group ${name}: no egress rule, OpenStack's defaults deleted (${on})`);
      const subnet = subnets.find((x) => String(x.inputs.name).endsWith(`-${seed.group}`));
      if (subnet?.inputs.noGateway) {
        const routes = of(resources, "openstack:networking/subnetRoute:SubnetRoute").filter(
          (r) => r.inputs.subnetId === `${subnet.name}-id`,
        );
        fences.push(
          `subnet ${String(subnet.inputs.name)}: no default gateway, routes to ${routes
            .map((r) => String(r.inputs.destinationCidr))
            .sort()
            .join(", ")} only (no route to the internet)`,
        );
      }
    } else if (rule) {
      fences.push(`security group ${name}: ${seed.direction} tcp ${seed.port} ${rule.inputs.remoteIpPrefix} (${on})`);
    }
    if (seed.group === "backend") {
      const p = policy(seed.direction === "ingress" ? "backend-ingress" : "backend-egress");
      const ns = (p?.inputs.metadata as { namespace?: string } | undefined)?.namespace;
      if (p && seed.port !== 9100)
        fences.push(
          `NetworkPolicy ${ns}/${(p.inputs.metadata as { name: string }).name} on the backend's pods${managedPort(p, seed, databaseSubnet)}`,
        );
      if (seed.port === 9100 && policy("default-deny-all"))
        fences.push(`NetworkPolicy ${ns ?? "probatio"}/default-deny-all (no pod port 9100 is opened)`);
    }
    if (seed.group === "database" && database) {
      const ips = ((database.inputs.ipRestrictions as { ip: string }[] | undefined) ?? []).map((x) => x.ip);
      fences.push(
        seed.direction === "ingress"
          ? `managed database ${database.name}: ipRestrictions ${ips.join(", ")}`
          : `managed database ${database.name}: OVH operates it; it opens no connection of the application's`,
      );
    }
    if (seed.group === "hsm" && kms) {
      fences.push(
        seed.direction === "ingress"
          ? `OVH KMS ${kms.name}: reached over HTTPS with the backend's mTLS credential only (no port 9000 of ours)`
          : `OVH KMS ${kms.name}: a service, not a machine of the stack; it opens no connection`,
      );
    }
    return { rule: seed.says, fences };
  });
}
