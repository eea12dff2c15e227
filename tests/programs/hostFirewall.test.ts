/**
 * The host firewalls of the classic VPS phases (ProbatioVault 0-1, the all-in-ones, KoproGo 1-2): nftables rendered
 * from the same flows as the security groups, every peer named by its address, and each ruleset accepted by the real
 * `nft` (checked in a network namespace of its own, so nothing is loaded on this machine).
 */
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parse } from "yaml";
import { NFTABLES_CONFIG, renderHostFirewall, withHostFirewall } from "../../components/config/hostFirewall";
import { SERVICES_FILE } from "../../components/config/bundle";
import { ownerOf } from "../../components/delivery/owners";
import { hostRules, WORLD } from "../../components/flows";
import { PLAN_NAT_EGRESS } from "../../offline/mockRun";
import { renderPhase, Rendered } from "../../offline/render";

// Each render runs the whole phase program under Pulumi's mocks (a second or two, more on a loaded machine).
jest.setTimeout(180_000);

/** The accept rules of a chain, without the base rules every machine has (loopback, ICMP, DHCP, replies). */
const rulesOf = (chain: string) =>
  chain
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => / dport \d+ accept| l4proto 112 accept/.test(l) && !/DHCP/.test(l))
    .map((l) => l.replace(/ comment ".*"$/, ""));
/** The input chain's accept rules (what the machine lets in). */
const accepts = (ruleset: string) => rulesOf(ruleset.split("chain output")[0]);
/** The output chain's accept rules (what the machine may open), or undefined: no output chain, egress open. */
const egress = (ruleset: string) => (ruleset.includes("chain output") ? rulesOf(ruleset.split("chain output")[1]) : undefined);

const firewallOf = (r: Rendered, machine: string) =>
  r.machines.find((m) => m.machine === machine && !m.migrationTarget)!.files[NFTABLES_CONFIG];
const addressOf = (r: Rendered, machine: string) => r.machines.find((m) => m.machine === machine && !m.migrationTarget)!.address!;

/** `nft --check` on each ruleset, in a network namespace of its own. */
function nftCheck(rulesets: Record<string, string>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "probatio-nft-"));
  const results: Record<string, string> = {};
  try {
    for (const [name, text] of Object.entries(rulesets)) {
      const file = join(dir, `${name}.nft`);
      writeFileSync(file, text);
      try {
        execFileSync("unshare", ["-n", "nft", "-c", "-f", file], { stdio: "pipe" });
        results[name] = "valid";
      } catch (e) {
        results[name] = String((e as { stderr?: Buffer }).stderr ?? e);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

describe("ProbatioVault phase 1's host firewalls", () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderPhase({
      roadmap: "probatio",
      phase: 1,
      stack: "prod",
      overrides: { sshAllowList: ["203.0.113.7/32", "2001:db8:7::/64"] },
    });
  });

  test("the database lets pgBouncer's 6432 in from the backend and the api only, the node exporter from monitoring; PostgreSQL's 5432 from no one", () => {
    const apps = [addressOf(r, "prod-api-1"), addressOf(r, "prod-backend-1")].sort().join(", ");
    expect(accepts(firewallOf(r, "prod-database-1"))).toEqual([
      "ip saddr { 203.0.113.7/32 } tcp dport 22 accept",
      "ip6 saddr { 2001:db8:7::/64 } tcp dport 22 accept",
      `ip saddr { ${apps} } tcp dport 6432 accept`,
      `ip saddr { ${addressOf(r, "prod-monitoring-1")} } tcp dport 9100 accept`,
    ]);
  });

  test("only the entry machine takes 80/443 from the internet; Redis from the application; monitoring and the CI runner take SSH only", () => {
    const monitoring = addressOf(r, "prod-monitoring-1");
    const apps = [addressOf(r, "prod-api-1"), addressOf(r, "prod-backend-1")].sort().join(", ");
    const ssh = ["ip saddr { 203.0.113.7/32 } tcp dport 22 accept", "ip6 saddr { 2001:db8:7::/64 } tcp dport 22 accept"];
    const exporter = `ip saddr { ${monitoring} } tcp dport 9100 accept`;
    expect(accepts(firewallOf(r, "prod-backend-1"))).toEqual([...ssh, "tcp dport 80 accept", "tcp dport 443 accept", exporter]);
    expect(accepts(firewallOf(r, "prod-cache-1"))).toEqual([...ssh, `ip saddr { ${apps} } tcp dport 6379 accept`, exporter]);
    expect(accepts(firewallOf(r, "prod-api-1"))).toEqual([...ssh, exporter]);
    expect(accepts(firewallOf(r, "prod-ci-runner-1"))).toEqual([...ssh, exporter]);
    // Prometheus (9090) and Grafana (3000) answer on the machine itself: the operator reaches them through SSH.
    expect(accepts(firewallOf(r, "prod-monitoring-1"))).toEqual(ssh);
  });

  test("the data tiers (database, cache) are sealed both ways: they open only DNS, NTP and 80/443 (mirrors, Object Storage); the other machines' egress stays open", () => {
    const internet = ["udp dport 53 accept", "tcp dport 53 accept", "udp dport 123 accept", "tcp dport 80 accept", "tcp dport 443 accept"];
    for (const machine of ["prod-database-1", "prod-cache-1"]) {
      const ruleset = firewallOf(r, machine);
      expect(ruleset).toContain("type filter hook output priority filter; policy drop;");
      expect(egress(ruleset)).toEqual(internet);
      // The SSH session that delivers the first ruleset keeps answering (conntrack never saw it open).
      expect(ruleset.split("chain output")[1]).toContain("tcp sport 22 accept");
    }
    for (const machine of ["prod-backend-1", "prod-api-1", "prod-ci-runner-1", "prod-monitoring-1"])
      expect(egress(firewallOf(r, machine))).toBeUndefined();
  });

  test("every ruleset drops the rest, is accepted by the real nft, and is loaded last by the machine's configuration", () => {
    const machines = r.machines.filter((m) => !m.migrationTarget);
    expect(machines).toHaveLength(6);
    for (const m of machines) {
      expect(m.files[NFTABLES_CONFIG]).toContain("type filter hook input priority filter; policy drop;");
      const doc = parse(m.cloudInit.replace(/^#cloud-config\n/, ""));
      expect(doc.packages).toContain("nftables");
      expect((doc.runcmd as string[]).slice(-2)).toEqual(["systemctl enable nftables", "systemctl reload-or-restart nftables"]);
      expect(m.files[SERVICES_FILE].split("\n")).toContain("nftables");
    }
    const checks = nftCheck(Object.fromEntries(machines.map((m) => [m.machine, m.files[NFTABLES_CONFIG]])));
    expect(Object.values(checks)).toEqual(machines.map(() => "valid"));
  });
});

test("with no allow-list set, SSH stays open on a VPS (a lock-out would be for good) and the rule says so", async () => {
  const r = await renderPhase({ roadmap: "probatio", phase: 0, stack: "prod" });
  const ruleset = firewallOf(r, "prod-database-1");
  expect(ruleset).toContain('tcp dport 22 accept comment "SSH from the allow-list (none set: from anywhere)"');
  const apps = [addressOf(r, "prod-api-1"), addressOf(r, "prod-backend-1")].sort().join(", ");
  expect(accepts(ruleset)).toEqual(["tcp dport 22 accept", `ip saddr { ${apps} } tcp dport 5432 accept`]);
});

test("while phase 1 migrates to phase 2, the source database also lets the NAT gateway's address in on 5432, and no other", async () => {
  const migration = {
    roadmap: "probatio",
    from: 1,
    to: 2,
    stage: "transitional",
    completed: [],
    startedAt: "2026-11-25T00:00:00Z",
  } as const;
  const r = await renderPhase({ roadmap: "probatio", phase: 1, stack: "prod", overrides: { migration: { ...migration, completed: [] } } });
  const rules = accepts(firewallOf(r, "prod-database-1"));
  expect(rules).toContain(`ip saddr { ${PLAN_NAT_EGRESS}/32 } tcp dport 5432 accept`);
  expect(rules.filter((l) => l.includes("dport 5432"))).toHaveLength(1);
  // The target's machines are Public Cloud instances: fenced by security groups, no host firewall.
  expect(r.machines.filter((m) => m.migrationTarget && m.files[NFTABLES_CONFIG])).toEqual([]);
});

test.each([
  ["koprogo", 1, "prod-app-1"],
  ["probatio", 0, "dev-allinone-1"],
] as const)("%s phase %i: the all-in-one machine takes 80/443 and SSH, nothing else", async (roadmap, phase, machine) => {
  const stack = machine.split("-")[0];
  const r = await renderPhase({ roadmap, phase, stack, environment: stack === "dev" ? "dev" : undefined });
  expect(accepts(firewallOf(r, machine))).toEqual(["tcp dport 22 accept", "tcp dport 80 accept", "tcp dport 443 accept"]);
});

test("Public Cloud phases have no host firewall: security groups fence them", async () => {
  const r = await renderPhase({ roadmap: "probatio", phase: 3, stack: "prod" });
  expect(r.machines.filter((m) => m.files[NFTABLES_CONFIG]).map((m) => m.machine)).toEqual([]);
});

describe("the ruleset and the configuration", () => {
  test("sources by family, VRRP by protocol number, and the file's owner reloads (never restarts) nftables", () => {
    const rules = hostRules(
      [
        { from: WORLD, to: "lb", protocol: "tcp", port: 443, why: "HTTPS" },
        { from: "lb", to: "lb", protocol: "vrrp", why: 'VRRP "pair"' },
        { from: "backend", to: "lb", protocol: "tcp", port: 9000, why: "nobody" },
      ],
      "lb",
      { lb: ["192.0.2.5", "192.0.2.6"], backend: [] },
      [],
    );
    // A role with no machine lets nothing in.
    expect(rules.map((x) => x.why)).toEqual(["HTTPS", 'VRRP "pair"']);
    const text = renderHostFirewall("lb", rules);
    expect(text).toContain('\t\ttcp dport 443 accept comment "HTTPS"\n');
    expect(text).toContain("\t\tip saddr { 192.0.2.5, 192.0.2.6 } meta l4proto 112 accept comment \"VRRP 'pair'\"\n");
    expect(nftCheck({ lb: text })).toEqual({ lb: "valid" });
    expect(ownerOf(NFTABLES_CONFIG)).toEqual({ kind: "reload", unit: "nftables" });
  });

  test("adding it to user data twice changes nothing; a machine with no services file gets one", () => {
    const once = withHostFirewall("#cloud-config\nhostname: a\n", "table inet probatio {}\n");
    expect(withHostFirewall(once, "table inet probatio {}\n")).toBe(once);
    const doc = parse(once.replace(/^#cloud-config\n/, ""));
    expect(doc.write_files.map((f: { path: string }) => f.path)).toEqual([NFTABLES_CONFIG, SERVICES_FILE]);
    expect(doc.runcmd).toEqual(["set -eu", "systemctl enable nftables", "systemctl reload-or-restart nftables"]);
  });
});
