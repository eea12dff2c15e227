import { DEFAULT_REGION, ports } from "../lib/defaults";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "./validation";

/** One security group rule, as data: rendered into openstack SecGroupRules and tested directly. */
export interface RuleSpec {
  readonly group: string;
  readonly direction: "ingress" | "egress";
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  readonly remote: string;
  readonly description: string;
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
    if (openToAll && !(r.group === "lb" && (r.port === ports.http || r.port === ports.https))) {
      throw new ArgumentError(
        "SecurityGroups",
        "rules",
        `only the load balancer's 80/443 may be open to 0.0.0.0/0 (got ${r.group} ${r.port})`,
      );
    }
  }
}

export interface SecurityGroupsArgs {
  /** Stack name (group names). */
  readonly stack: string;
  /** Subnet CIDRs of the tiers. */
  readonly tiers: ZeroTrustTiers;
  /**
   * CIDRs allowed to reach SSH.
   * @default none
   */
  readonly sshAllowList?: readonly string[];
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
    const rules = zeroTrustRules(args.tiers, sshAllowList);
    validateRules(rules, sshAllowList);
    this.rules = rules;
    const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
    const region = args.region ?? DEFAULT_REGION;
    this.names = {};
    this.ids = {};
    for (const group of [...new Set(rules.map((r) => r.group))]) {
      const sg = new openstack.networking.SecGroup(
        `${name}-${group}`,
        {
          name: `${args.stack}-${group}`,
          description: `probatio zero-trust group for ${group}`,
          deleteDefaultRules: true,
          region,
        },
        { parent: this },
      );
      this.names[group] = `${args.stack}-${group}`;
      this.ids[group] = sg.id;
    }
    rules.forEach((r) => {
      new openstack.networking.SecGroupRule(
        `${name}-${r.group}-${r.direction}-${r.protocol}-${r.port}-${r.remote.replace(/[./]/g, "-")}`,
        {
          securityGroupId: this.ids[r.group],
          direction: r.direction,
          ethertype: "IPv4",
          protocol: r.protocol,
          portRangeMin: r.port,
          portRangeMax: r.port,
          remoteIpPrefix: r.remote,
          description: r.description,
          region,
        },
        { parent: this },
      );
    });
    this.registerOutputs({ names: this.names, ids: this.ids });
  }
}
