import { DEFAULT_REGION, ports } from "../lib/defaults";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "./validation";

/** One security group rule, as data: rendered into openstack SecGroupRules and tested directly. */
export interface RuleSpec {
  readonly group: string;
  readonly direction: "ingress" | "egress";
  /** "vrrp" is IP protocol 112 (keepalived's adverts), which has no port. */
  readonly protocol: "tcp" | "udp" | "vrrp";
  readonly port?: number;
  /** The remote CIDR; empty when `remoteGroup` names the remote end instead. */
  readonly remote: string;
  /** The remote end as another group of the same set: its members, whatever their addresses (autoscaled ones too). */
  readonly remoteGroup?: string;
  readonly description: string;
}

function fail(message: string): never {
  throw new ArgumentError("SecurityGroups", "rules", message);
}

export interface ZeroTrustTiers {
  /** The load balancer's subnet (the managed LB lives there). */
  readonly public: string;
  readonly backend: string;
  readonly database: string;
  readonly hsm: string;
  /** Where Prometheus scrapes from. Default: the backend subnet (Prometheus runs in the cluster). */
  readonly monitoring?: string;
}

export const INTERNET = "0.0.0.0/0";

/**
 * The zero-trust rules of ProbatioVault phase 4 (seed: "Security Groups OpenStack (Zero Trust)"). Every group
 * deletes OpenStack's default rules, so what is not listed here is denied, egress included.
 */
export function zeroTrustRules(t: ZeroTrustTiers, sshAllowList: readonly string[]): RuleSpec[] {
  const monitoring = t.monitoring ?? t.backend;
  const rules: RuleSpec[] = [
    {
      group: "lb",
      direction: "ingress",
      protocol: "tcp",
      port: ports.http,
      remote: INTERNET,
      description: "HTTP from the internet (redirect to HTTPS)",
    },
    { group: "lb", direction: "ingress", protocol: "tcp", port: ports.https, remote: INTERNET, description: "HTTPS from the internet" },
    { group: "lb", direction: "egress", protocol: "tcp", port: ports.https, remote: t.backend, description: "HTTPS to the backends" },
    {
      group: "backend",
      direction: "ingress",
      protocol: "tcp",
      port: ports.https,
      remote: t.public,
      description: "HTTPS from the load balancer only",
    },
    {
      group: "backend",
      direction: "ingress",
      protocol: "tcp",
      port: ports.nodeExporter,
      remote: monitoring,
      description: "Prometheus node exporter from monitoring",
    },
    {
      group: "backend",
      direction: "egress",
      protocol: "tcp",
      port: ports.postgres,
      remote: t.database,
      description: "PostgreSQL to the database subnet only",
    },
    {
      group: "backend",
      direction: "egress",
      protocol: "tcp",
      port: ports.redis,
      remote: t.backend,
      description: "Redis in the backend subnet",
    },
    { group: "backend", direction: "egress", protocol: "tcp", port: ports.hsm, remote: t.hsm, description: "HSM in the HSM subnet (mTLS)" },
    {
      group: "backend",
      direction: "egress",
      protocol: "tcp",
      port: ports.https,
      remote: INTERNET,
      description: "HTTPS to external APIs through NAT",
    },
    {
      group: "cache",
      direction: "ingress",
      protocol: "tcp",
      port: ports.redis,
      remote: t.backend,
      description: "Redis from the backend subnet",
    },
    {
      group: "cache",
      direction: "ingress",
      protocol: "tcp",
      port: ports.sentinel,
      remote: t.backend,
      description: "Sentinel from the backend subnet",
    },
    { group: "cache", direction: "egress", protocol: "tcp", port: ports.redis, remote: t.backend, description: "Redis replication" },
    { group: "cache", direction: "egress", protocol: "tcp", port: ports.sentinel, remote: t.backend, description: "Sentinel gossip" },
    {
      group: "database",
      direction: "ingress",
      protocol: "tcp",
      port: ports.postgres,
      remote: t.backend,
      description: "PostgreSQL from the backend subnet only",
    },
    {
      group: "hsm",
      direction: "ingress",
      protocol: "tcp",
      port: ports.hsm,
      remote: t.backend,
      description: "HSM from the backend subnet only (mTLS)",
    },
  ];
  for (const cidr of sshAllowList) {
    for (const group of ["lb", "backend", "cache", "database", "hsm"]) {
      rules.push({ group, direction: "ingress", protocol: "tcp", port: ports.ssh, remote: cidr, description: "SSH from the allow-list" });
    }
  }
  return rules;
}

export function validateRules(rules: readonly RuleSpec[], sshAllowList: readonly string[]): void {
  for (const cidr of sshAllowList) {
    if (cidr === INTERNET || cidr.endsWith("/0"))
      throw new ArgumentError("SecurityGroups", "sshAllowList", `must not open SSH to the whole internet (${cidr})`);
  }
  for (const r of rules) {
    const openToAll = r.direction === "ingress" && r.remote === INTERNET;
    if (openToAll && !(r.protocol === "tcp" && (r.port === ports.http || r.port === ports.https))) {
      throw new ArgumentError(
        "SecurityGroups",
        "rules",
        `only the entry's 80/443 may be open to 0.0.0.0/0 (got ${r.group} ${r.protocol} ${r.port ?? "every port"})`,
      );
    }
  }
}

export interface SecurityGroupsArgs {
  /** Stack name (group names). */
  readonly stack: string;
  /**
   * Subnet CIDRs of the tiers: the seed's zero-trust rules of phase 4 ({@link zeroTrustRules}). Ignored when `rules` is given.
   * @default none
   */
  readonly tiers?: ZeroTrustTiers;
  /**
   * The rules, one group per distinct `group` (the phases' flows: see `flowRules`).
   * @default zeroTrustRules(tiers, sshAllowList)
   */
  readonly rules?: readonly RuleSpec[];
  /**
   * What the group names start with (a side-by-side migration's second generation must not reuse the first's names:
   * instances name their groups, and OpenStack refuses an ambiguous name).
   * @default stack
   */
  readonly namePrefix?: string;
  /**
   * CIDRs allowed to reach SSH.
   * @default none
   */
  readonly sshAllowList?: readonly string[];
  /**
   * While a side-by-side migration replicates this phase's data into the next: the one address (or CIDR) the next
   * phase's database connects in from, let into `group` on `port` (and removed with the migration's end).
   * @default none
   */
  readonly migrationPeer?: { readonly group: string; readonly port: number; readonly address: pulumi.Input<string> };
  /**
   * OpenStack region.
   * @default "GRA11"
   */
  readonly region?: string;
}

/** OpenStack security groups with the default rules deleted: zero trust, "egress deny all" for real. */
export class SecurityGroups extends pulumi.ComponentResource {
  /** Group names by tier, for instances' `securityGroups`. */
  public readonly names: Record<string, string>;
  public readonly ids: Record<string, pulumi.Output<string>>;
  public readonly rules: readonly RuleSpec[];

  constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:network:SecurityGroups", name, {}, opts);
    const sshAllowList = args.sshAllowList ?? [];
    if (!args.rules && !args.tiers) fail("give the rules or the tiers they are made from");
    const rules = args.rules ?? zeroTrustRules(args.tiers!, sshAllowList);
    validateRules(rules, sshAllowList);
    this.rules = rules;
    const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
    const region = args.region ?? DEFAULT_REGION;
    this.names = {};
    this.ids = {};
    const prefix = args.namePrefix ?? args.stack;
    for (const group of [...new Set(rules.map((r) => r.group))]) {
      const sg = new openstack.networking.SecGroup(
        `${name}-${group}`,
        {
          name: `${prefix}-${group}`,
          description: `probatio zero-trust group for ${group}`,
          deleteDefaultRules: true,
          region,
        },
        { parent: this },
      );
      this.names[group] = `${prefix}-${group}`;
      this.ids[group] = sg.id;
    }
    rules.forEach((r) => {
      const remote = r.remoteGroup ? `from-${r.remoteGroup}` : r.remote.replace(/[./]/g, "-");
      const port = r.port === undefined ? "" : `-${r.port}`;
      const remoteGroupId = r.remoteGroup
        ? (this.ids[r.remoteGroup] ?? fail(`rule of ${r.group} names group '${r.remoteGroup}', which has no rule of its own`))
        : undefined;
      new openstack.networking.SecGroupRule(
        `${name}-${r.group}-${r.direction}-${r.protocol}${port}-${remote}`,
        {
          securityGroupId: this.ids[r.group],
          direction: r.direction,
          ethertype: "IPv4",
          protocol: r.protocol,
          portRangeMin: r.port,
          portRangeMax: r.port,
          remoteIpPrefix: r.remoteGroup ? undefined : r.remote,
          remoteGroupId,
          description: r.description,
          region,
        },
        { parent: this },
      );
    });
    const peer = args.migrationPeer;
    if (peer) {
      new openstack.networking.SecGroupRule(
        `${name}-${peer.group}-ingress-tcp-${peer.port}-migration-peer`,
        {
          securityGroupId: this.ids[peer.group] ?? fail(`the migration peer's group '${peer.group}' has no rule of its own`),
          direction: "ingress",
          ethertype: "IPv4",
          protocol: "tcp",
          portRangeMin: peer.port,
          portRangeMax: peer.port,
          remoteIpPrefix: pulumi.output(peer.address).apply((a) => (a.includes("/") ? a : `${a}/32`)),
          description: "the next phase's database replicates the data (side-by-side migration)",
          region,
        },
        { parent: this },
      );
    }
    this.registerOutputs({ names: this.names, ids: this.ids });
  }
}
