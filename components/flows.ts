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
