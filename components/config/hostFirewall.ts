/**
 * The host firewall of a classic VPS (phases with no security groups): nftables, an input chain that drops what the
 * phase's flows do not list, and for a data tier (a database or cache VPS) an output chain that does the same for
 * what it opens itself. Its own table only, replaced atomically by each delivery: the tables of others (Docker's,
 * on KoproGo's Compose machines) are left alone, and an SSH session already open survives a change (established
 * connections pass).
 */
import { parse, stringify } from "yaml";
import { HostEgressRule, HostRule } from "../flows";
import { isIpv4Address } from "../cidr";
import { SERVICES_FILE } from "./bundle";

/** The file nftables.service loads at boot and reloads on a change (Debian's). */
export const NFTABLES_CONFIG = "/etc/nftables.conf";
export const NFTABLES_UNIT = "nftables";
/** probatio's table (nft's "inet" family: IPv4 and IPv6). */
export const FIREWALL_TABLE = "probatio";

const isV4 = (source: string) => isIpv4Address(source.split("/")[0]);
const comment = (why: string) => `comment "${why.replace(/["\\]/g, "'").slice(0, 120)}"`;

function match(rule: HostRule): string {
  switch (rule.protocol) {
    case "tcp":
    case "udp":
      return `${rule.protocol} dport ${rule.port}`;
    case "vrrp":
      return "meta l4proto 112";
    default: {
      const never: never = rule.protocol;
      return never;
    }
  }
}

/**
 * One accept rule as nft lines: one per address family of `addresses`, matched as the packet's source (`saddr`) or
 * destination (`daddr`); undefined addresses: any.
 */
function acceptLines(rule: HostRule | HostEgressRule, addresses: readonly string[] | undefined, field: "saddr" | "daddr"): string[] {
  const accept = `${match(rule)} accept ${comment(rule.why)}`;
  if (!addresses) return [accept];
  const v4 = addresses.filter(isV4);
  const v6 = addresses.filter((a) => !isV4(a));
  return [
    ...(v4.length ? [`ip ${field} { ${v4.join(", ")} } ${accept}`] : []),
    ...(v6.length ? [`ip6 ${field} { ${v6.join(", ")} } ${accept}`] : []),
  ];
}

/**
 * The ruleset of the `role` machines. `egress`: the rules of an output chain that drops every other connection the
 * machine opens (a data tier: sealed); undefined: no output chain. Pure: same rules, same text.
 */
export function renderHostFirewall(role: string, rules: readonly HostRule[], egress?: readonly HostEgressRule[]): string {
  const output = egress
    ? [
        "\tchain output {",
        "\t\ttype filter hook output priority filter; policy drop;",
        "\t\tct state established,related accept",
        "\t\tct state invalid drop",
        '\t\toif "lo" accept',
        // The first load meets the SSH session that delivers it: conntrack never saw it open, and its next packet out
        // would count as new. sshd's own port is privileged: only sshd answers from it.
        `\t\ttcp sport 22 accept ${comment("SSH's answers (the session that loads the ruleset first)")}`,
        `\t\tmeta l4proto { icmp, ipv6-icmp } accept ${comment("ICMP: path MTU, IPv6 neighbour discovery, ping")}`,
        `\t\tudp sport 68 udp dport 67 accept ${comment("DHCP requests (the VPS's address)")}`,
        `\t\tudp sport 546 udp dport 547 accept ${comment("DHCPv6 requests")}`,
        ...egress.flatMap((r) => acceptLines(r, r.destinations, "daddr")).map((l) => `\t\t${l}`),
        "\t}",
      ]
    : [];
  const lines = [
    "#!/usr/sbin/nft -f",
    `# probatio: the host firewall of the ${role} machines, generated from the phase's flows. A delivery rewrites it.`,
    `# Only probatio's table is replaced (others', Docker's included, are left alone); nft loads the file atomically.`,
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    "\tchain input {",
    "\t\ttype filter hook input priority filter; policy drop;",
    "\t\tct state established,related accept",
    "\t\tct state invalid drop",
    '\t\tiif "lo" accept',
    `\t\tmeta l4proto { icmp, ipv6-icmp } accept ${comment("ICMP: path MTU, IPv6 neighbour discovery, ping")}`,
    `\t\tudp sport 67 udp dport 68 accept ${comment("DHCP answers (the VPS's address)")}`,
    `\t\tudp sport 547 udp dport 546 accept ${comment("DHCPv6 answers")}`,
    ...rules.flatMap((r) => acceptLines(r, r.sources, "saddr")).map((l) => `\t\t${l}`),
    "\t}",
    ...output,
    "}",
  ];
  return lines.join("\n") + "\n";
}

/**
 * Adds the host firewall to a machine's user data: the nftables package, its ruleset, the unit enabled and (re)loaded
 * last, once every service is in place, and the unit listed among those that must be active. A reload, never a
 * restart: stopping nftables.service flushes every table, Docker's included.
 */
export function withHostFirewall(userData: string, ruleset: string): string {
  const doc = parse(userData.replace(/^#cloud-config\n/, "")) as Record<string, unknown>;
  type File = { path: string; content: string };
  const files = [...((doc.write_files as File[] | undefined) ?? [])];
  const file = { path: NFTABLES_CONFIG, content: ruleset, permissions: "0755", owner: "root:root", defer: true } as File;
  const at = files.findIndex((f) => f.path === NFTABLES_CONFIG);
  if (at >= 0) files[at] = file;
  else files.push(file);
  const services = files.find((f) => f.path === SERVICES_FILE);
  if (services) {
    const units = services.content.split("\n").filter((u) => u && u !== NFTABLES_UNIT);
    services.content = [...units, NFTABLES_UNIT].join("\n") + "\n";
  } else {
    files.push({ path: SERVICES_FILE, content: `${NFTABLES_UNIT}\n`, permissions: "0644", owner: "root:root", defer: true } as File);
  }
  const packages = [...new Set([...((doc.packages as string[] | undefined) ?? []), "nftables"])].sort();
  const runcmd = (doc.runcmd as string[] | undefined) ?? ["set -eu"];
  const load = [`systemctl enable ${NFTABLES_UNIT}`, `systemctl reload-or-restart ${NFTABLES_UNIT}`];
  return (
    "#cloud-config\n" +
    stringify({ ...doc, packages, write_files: files, runcmd: [...runcmd.filter((c) => !load.includes(c)), ...load] }, { lineWidth: 0 })
  );
}
