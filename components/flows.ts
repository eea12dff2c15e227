/**
 * The flows a phase needs, as data: who may open a connection to whom, on which protocol and port. Everything the
 * fences enforce is generated from this list (OpenStack security groups per role, and the boot harness's nftables
 * stand-in for them), so "sealed" means exactly: no flow that is not listed here.
 */
import { RuleSpec, INTERNET } from "./securityGroups";

/** Not a role: the whole internet (a source or a destination). */
export const WORLD = "internet";
/** Not a role: the stack's SSH allow-list (a source only). */
export const ALLOW_LIST = "ssh-allow-list";

export type FlowProtocol = "tcp" | "udp" | "vrrp";

export interface Flow {
  /** A role, {@link WORLD}, {@link ALLOW_LIST} or a CIDR (a managed service's subnet). */
  readonly from: string;
  /** A role or {@link WORLD}. */
  readonly to: string;
  readonly protocol: FlowProtocol;
  /** The destination port (none for VRRP, IP protocol 112). */
  readonly port?: number;
  /** Why the phase needs it: the rule's description. */
  readonly why: string;
}

const isCidr = (end: string) => end.includes("/");
const isRole = (end: string) => end !== WORLD && end !== ALLOW_LIST && !isCidr(end);

/**
 * The security-group rules that let exactly `flows` through, one group per role: an ingress rule on the destination's
 * group (from the source's group, the internet or each allow-listed CIDR) and an egress rule on the source's group
 * (to the destination's group or the internet). Groups are stateful: replies need no rule. Duplicates are dropped.
 */
export function flowRules(flows: readonly Flow[], sshAllowList: readonly string[]): RuleSpec[] {
  const rules = new Map<string, RuleSpec>();
  const add = (r: RuleSpec) => {
    const key = `${r.group}|${r.direction}|${r.protocol}|${r.port ?? ""}|${r.remote}|${r.remoteGroup ?? ""}`;
    if (!rules.has(key)) rules.set(key, r);
  };
  for (const f of flows) {
    const base = { protocol: f.protocol, port: f.port, description: f.why };
    if (isRole(f.to)) {
      if (f.from === WORLD) add({ ...base, group: f.to, direction: "ingress", remote: INTERNET });
      else if (f.from === ALLOW_LIST) for (const cidr of sshAllowList) add({ ...base, group: f.to, direction: "ingress", remote: cidr });
      else if (isCidr(f.from)) add({ ...base, group: f.to, direction: "ingress", remote: f.from });
      else add({ ...base, group: f.to, direction: "ingress", remote: "", remoteGroup: f.from });
    }
    if (isRole(f.from)) {
      if (f.to === WORLD) add({ ...base, group: f.from, direction: "egress", remote: INTERNET });
      else add({ ...base, group: f.from, direction: "egress", remote: "", remoteGroup: f.to });
    }
  }
  return [...rules.values()];
}

/** Whether `flows` let `from` open a connection to `to` on `protocol`/`port` (the table the boot test probes). */
export function allows(flows: readonly Flow[], from: string, to: string, protocol: FlowProtocol, port?: number): boolean {
  return flows.some((f) => f.from === from && f.to === to && f.protocol === protocol && (f.port ?? undefined) === port);
}

/** One accept rule of a host firewall: a destination port opened to some sources. */
export interface HostRule {
  readonly protocol: FlowProtocol;
  /** The destination port (none for VRRP). */
  readonly port?: number;
  /** Source addresses or CIDRs; undefined: from anywhere. */
  readonly sources?: readonly string[];
  readonly why: string;
}

/** One accept rule of a host firewall's output chain: a destination port opened towards some addresses. */
export interface HostEgressRule {
  readonly protocol: FlowProtocol;
  /** The destination port (none for VRRP). */
  readonly port?: number;
  /** Destination addresses; undefined: anywhere (the internet's services: DNS, NTP, mirrors, Object Storage). */
  readonly destinations?: readonly string[];
  readonly why: string;
}

/**
 * The output rules of `role`'s host firewall: one rule per flow out of `role`, the destination roles named by their
 * machines' addresses (a role with no address yet: nothing). What a security group's egress rules are elsewhere.
 */
export function hostEgressRules(
  flows: readonly Flow[],
  role: string,
  addresses: Readonly<Record<string, readonly string[]>>,
): HostEgressRule[] {
  const rules = new Map<string, { protocol: FlowProtocol; port?: number; destinations?: Set<string>; why: string }>();
  for (const f of flows.filter((x) => x.from === role)) {
    const destinations = f.to === WORLD ? undefined : (addresses[f.to] ?? []);
    if (destinations && destinations.length === 0) continue;
    const key = `${f.protocol}|${f.port ?? ""}|${f.why}`;
    const rule = rules.get(key) ?? { protocol: f.protocol, port: f.port, destinations: new Set<string>(), why: f.why };
    if (!destinations) rule.destinations = undefined;
    else for (const d of destinations) rule.destinations?.add(d);
    rules.set(key, rule);
  }
  return [...rules.values()].map((r) => ({ ...r, destinations: r.destinations && [...r.destinations].sort() }));
}

/**
 * The input rules of `role`'s host firewall (classic VPS: no security groups, peers named by address): one rule per
 * flow into `role`. A source role with no address yet lets nothing in. An empty allow-list leaves SSH open to any
 * address (key-only): closing it would lock the operator and probatio's deliveries out of a VPS for good (`up` warns).
 */
export function hostRules(
  flows: readonly Flow[],
  role: string,
  addresses: Readonly<Record<string, readonly string[]>>,
  sshAllowList: readonly string[],
): HostRule[] {
  // One rule per port and reason: the sources of flows that share them (two client roles of one database) merged.
  const rules = new Map<string, { protocol: FlowProtocol; port?: number; sources?: Set<string>; why: string }>();
  for (const f of flows.filter((x) => x.to === role)) {
    let sources: readonly string[] | undefined;
    let why = f.why;
    if (f.from === WORLD) sources = undefined;
    else if (f.from === ALLOW_LIST) {
      sources = sshAllowList.length > 0 ? sshAllowList : undefined;
      if (!sources) why = `${why} (none set: from anywhere)`;
    } else if (isCidr(f.from)) sources = [f.from];
    else sources = addresses[f.from] ?? [];
    if (sources && sources.length === 0) continue;
    const key = `${f.protocol}|${f.port ?? ""}|${why}`;
    const rule = rules.get(key) ?? { protocol: f.protocol, port: f.port, sources: new Set<string>(), why };
    if (!sources) rule.sources = undefined;
    else for (const s of sources) rule.sources?.add(s);
    rules.set(key, rule);
  }
  return [...rules.values()].map((r) => ({ ...r, sources: r.sources && [...r.sources].sort() }));
}
