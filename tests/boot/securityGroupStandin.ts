/**
 * A STAND-IN for the OpenStack security groups of a Public Cloud phase (ProbatioVault 2-3) on the boot tests' network:
 * nftables on the test network's bridge, generated from the groups, rules and ports the phase's plan declares (the
 * `SecGroup`, `SecGroupRule`, `Instance` and `Port` resources, as the cloud would receive them). OpenStack cannot run
 * here; its groups' semantics are reproduced:
 * - a new connection between two machines gets through only if the source's group lets it out (an egress rule to the
 *   destination's group, or to a CIDR) and the destination's group lets it in (an ingress rule from the source's group
 *   or a CIDR); a machine is in the groups its instance or its port names, by its address;
 * - the groups are stateful: the packets of a connection already made (TCP other than a lone SYN) pass, as conntrack
 *   lets them in OpenStack (the bridge family has no conntrack here: TCP's flags tell a new connection apart);
 * - VRRP (IP protocol 112) by the same rules; ARP passes; any other protocol between machines (ICMP, IPv6) is dropped.
 * From the network's namespace (the operator's address, an address of the internet, the ACME CA), a new TCP connection
 * to a machine meets the destination group's ingress rules. What the machines open towards the namespace is not judged:
 * the namespace stands for the internet's services (package mirrors, Object Storage, the SMTP relay, the CA), which the
 * harness serves on ports of its own; the egress rules are judged between machines.
 */
import type { DeclaredResource } from "../../offline/mockRun";
import { planPhase } from "../../offline/plan";
import { phaseFlows } from "../../programs/phase/flows";
import { environmentFor, getPhase, RoadmapId } from "../../programs/roadmaps";
import { PhaseSettings } from "../../programs/settings";
import { FenceTable, probeFences } from "./fences";
import { BootNetwork } from "./harness";
import { BootPlan } from "./phases";

export const STANDIN_TABLE = "probatio_security_groups_standin";

/** A declared rule, read back from its `SecGroupRule`. */
interface DeclaredRule {
  readonly group: string;
  readonly direction: "ingress" | "egress";
  readonly protocol: string;
  readonly ports?: readonly [number, number];
  readonly remoteCidr?: string;
  readonly remoteGroup?: string;
}

/** The groups a plan declares: their rules, and the addresses of their members (instances and ports). */
export interface DeclaredGroups {
  readonly rules: readonly DeclaredRule[];
  readonly members: Readonly<Record<string, readonly string[]>>;
}

type Inputs = Record<string, unknown>;

/** Reads the groups back from the plan's resources (the mocks' ids are `<resource name>-id`). */
export function declaredGroups(resources: readonly DeclaredResource[]): DeclaredGroups {
  const groups = resources.filter((r) => r.type === "openstack:networking/secGroup:SecGroup");
  const byId = new Map(groups.map((g) => [`${g.name}-id`, String((g.inputs as Inputs).name)]));
  const group = (id: unknown) =>
    byId.get(String(id)) ??
    (() => {
      throw new Error(`no declared group has the id ${String(id)}`);
    })();
  const rules: DeclaredRule[] = resources
    .filter((r) => r.type === "openstack:networking/secGroupRule:SecGroupRule")
    .map((r) => {
      const i = r.inputs as Inputs;
      const min = i.portRangeMin as number | undefined;
      return {
        group: group(i.securityGroupId),
        direction: i.direction as "ingress" | "egress",
        protocol: String(i.protocol),
        ...(min !== undefined ? { ports: [min, (i.portRangeMax as number | undefined) ?? min] as const } : {}),
        ...(i.remoteGroupId ? { remoteGroup: group(i.remoteGroupId) } : { remoteCidr: String(i.remoteIpPrefix ?? "0.0.0.0/0") }),
      };
    });
  const members: Record<string, string[]> = {};
  const add = (name: string, address: unknown) => {
    if (typeof address === "string" && address) (members[name] ??= []).push(address);
  };
  for (const r of resources) {
    const i = r.inputs as Inputs;
    if (r.type === "openstack:compute/instance:Instance") {
      // Its private address (a public interface, where it has one, is the cloud's: not on the test network).
      const addresses = ((i.networks as { fixedIpV4?: string }[] | undefined) ?? []).map((n) => n.fixedIpV4);
      for (const name of (i.securityGroups as string[] | undefined) ?? []) for (const a of addresses) add(name, a);
    }
    if (r.type === "openstack:networking/port:Port") {
      const addresses = ((i.fixedIps as { ipAddress?: string }[] | undefined) ?? []).map((f) => f.ipAddress);
      for (const id of (i.securityGroupIds as string[] | undefined) ?? []) for (const a of addresses) add(group(id), a);
    }
  }
  return { rules, members };
}

/**
 * The role of the group a machine's address is in (`<stack>-g<generation>-<role>`): the phase's flows name roles, and a
 * machine's group is its tier's (phase 2's standby is in the database group).
 */
export function groupRoleOf(declared: DeclaredGroups, address: string): string {
  const groups = Object.entries(declared.members).filter(([, addresses]) => addresses.includes(address));
  if (groups.length !== 1) throw new Error(`${address} is in ${groups.length} declared groups; the table expects one`);
  return groups[0][0].replace(/^.+?-g\d+-/, "");
}

const setName = (group: string) => `g_${group.replace(/[^a-z0-9]/gi, "_")}`;

/** One rule's match: the remote end (a group's address set, a CIDR, or anyone), protocol and ports. */
function match(rule: DeclaredRule, remoteField: "saddr" | "daddr"): string {
  const remote = rule.remoteGroup
    ? `ip ${remoteField} @${setName(rule.remoteGroup)} `
    : rule.remoteCidr === "0.0.0.0/0"
      ? ""
      : `ip ${remoteField} ${rule.remoteCidr} `;
  if (rule.protocol === "vrrp" || rule.protocol === "112") return `${remote}ip protocol vrrp`;
  if (rule.protocol !== "tcp" && rule.protocol !== "udp") throw new Error(`the stand-in has no rendering for protocol ${rule.protocol}`);
  const [min, max] = rule.ports ?? [1, 65535];
  return `${remote}${rule.protocol} dport ${min === max ? min : `${min}-${max}`}`;
}

/** The ruleset: an address set per group, a chain per group and direction, and the bridge's forward and output hooks. */
export function renderGroupStandin(declared: DeclaredGroups): string {
  const groups = [...new Set([...Object.keys(declared.members), ...declared.rules.map((r) => r.group)])].sort();
  const addresses = (g: string) => [...new Set(declared.members[g] ?? [])];
  const all = [...new Set(groups.flatMap(addresses))];
  const set = (name: string, elements: readonly string[]) => [
    `  set ${name} {`,
    "    type ipv4_addr",
    ...(elements.length ? [`    elements = { ${elements.join(", ")} }`] : []),
    "  }",
  ];
  const out: string[] = [
    `table bridge ${STANDIN_TABLE} {`,
    ...groups.flatMap((g) => set(setName(g), addresses(g))),
    ...set("members", all),
  ];
  for (const g of groups) {
    const rules = (direction: string) => declared.rules.filter((r) => r.group === g && r.direction === direction);
    // A rule that lets the connection out hands it to the destination's side; no rule: the next group, then dropped.
    out.push(`  chain egress_${setName(g)} {`, ...rules("egress").map((r) => `    ${match(r, "daddr")} jump ingress`), "  }");
    out.push(`  chain ingress_${setName(g)} {`, ...rules("ingress").map((r) => `    ${match(r, "saddr")} accept`), "  }");
  }
  out.push(
    // A machine in several groups: any of them may let the connection out or in (a port's groups add up).
    "  chain egress {",
    ...groups.map((g) => `    ip saddr @${setName(g)} jump egress_${setName(g)}`),
    "  }",
    "  chain ingress {",
    ...groups.map((g) => `    ip daddr @${setName(g)} jump ingress_${setName(g)}`),
    "    drop",
    "  }",
    // Between machines (bridge port to bridge port): the source's egress, then the destination's ingress.
    "  chain forward {",
    "    type filter hook forward priority 0; policy drop;",
    "    ether type arp accept",
    "    ether type != ip drop",
    "    ip saddr != @members drop",
    "    tcp flags & (syn | ack) != syn accept",
    "    jump egress",
    "  }",
    // From the namespace to a machine: a new TCP connection meets the machine's groups' ingress rules.
    "  chain output {",
    "    type filter hook output priority 0; policy accept;",
    "    ether type != ip accept",
    "    ip daddr != @members accept",
    "    tcp flags & (syn | ack) == syn jump ingress",
    "  }",
    "}",
  );
  return out.join("\n") + "\n";
}

/** Loads the stand-in into the test network's namespace (replacing an earlier one), all at once. */
export async function applyGroupStandin(net: BootNetwork, ruleset: string): Promise<void> {
  const r = await net.probe(`nft delete table bridge ${STANDIN_TABLE} 2>/dev/null; nft -f - <<'EOF'\n${ruleset}EOF`);
  if (r.code !== 0) throw new Error(`the security groups' stand-in was refused: ${r.stderr}`);
}

/**
 * Applies the stand-in of a booted Public Cloud phase's groups (read from its plan with the settings its machines were
 * booted with) and probes the fence table from every machine, the operator's allow-listed address and an address of the
 * internet (TEST-NET-1, added to the namespace: the machines answer it through their gateway). Every machine is named by
 * its group's role, as the flows name them.
 */
export async function probeGroupStandin(
  net: BootNetwork,
  roadmap: RoadmapId,
  phase: number,
  plan: BootPlan,
  settings: Partial<PhaseSettings>,
): Promise<FenceTable> {
  const declared = declaredGroups((await planPhase({ roadmap, phase, stack: "prod", overrides: settings })).resources);
  await applyGroupStandin(net, renderGroupStandin(declared));
  const machines = plan.machines.map((m) => ({ ...m, role: groupRoleOf(declared, m.address) }));
  // The table expected, from the flows (the data the rules are generated from; the first backend relays SSH).
  const flows = phaseFlows(environmentFor(getPhase(roadmap, phase), "prod").topology, settings as PhaseSettings, "backend");
  const outside = "192.0.2.200";
  const added = await net.probe(`ip addr add ${outside}/24 dev br0`);
  if (added.code !== 0) throw new Error(`the internet's address was not added: ${added.stderr}`);
  const table = await probeFences(
    net,
    flows,
    [
      ...machines.map((m) => ({ kind: "machine" as const, name: m.name, role: m.role })),
      { kind: "namespace", name: "operator", address: plan.gateway, allowListed: true },
      { kind: "namespace", name: "internet", address: outside, allowListed: false },
    ],
    machines,
  );
  process.stderr.write(
    `[boot ${roadmap} ${phase}] fences: ${table.cells} cells probed, ${table.reached} reached, ${table.fenced} fenced\n`,
  );
  return table;
}

/** The sources that reached `cell` ("machine:port"), sorted. */
export function reachedBy(table: FenceTable, cell: string): string[] {
  return Object.entries(table.reachedFrom)
    .filter(([, cells]) => cells.includes(cell))
    .map(([from]) => from)
    .sort();
}
