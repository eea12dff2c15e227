/**
 * The boot tests' STAND-IN for the security groups of ProbatioVault 2-3, read from each plan: who is in which group
 * (instances by name, HAProxy's ports by id, the VRRP address's port), and the ruleset the real `nft` accepts (checked
 * in a network namespace of its own, so nothing is loaded on this machine). The boot test of phase 2 probes it.
 */
import { execFileSync } from "child_process";
import { planPhase } from "../../offline/plan";
import { declaredGroups, groupRoleOf, renderGroupStandin } from "../boot/securityGroupStandin";

jest.setTimeout(180_000);

const groupsOf = async (phase: number) =>
  declaredGroups((await planPhase({ roadmap: "probatio", phase, stack: "prod", overrides: { sshAllowList: ["10.1.0.1/32"] } })).resources);

const nftCheck = (ruleset: string) => execFileSync("unshare", ["-n", "nft", "-c", "-f", "-"], { input: ruleset, stdio: "pipe" });

test("phase 2: every machine in its tier's group by its private address (the standby with the primary), and the real nft accepts the ruleset", async () => {
  const g = await groupsOf(2);
  expect(g.members).toEqual({
    "prod-g1-backend": ["10.1.0.100", "10.1.0.101", "10.1.0.102"],
    "prod-g1-cache": ["10.1.0.20"],
    "prod-g1-ci-runner": ["10.1.0.50"],
    "prod-g1-database": ["10.1.0.30", "10.1.0.31"],
    "prod-g1-lb": ["10.1.0.11"],
    "prod-g1-monitoring": ["10.1.0.40"],
    "prod-g1-pgbouncer": ["10.1.0.35"],
  });
  expect(groupRoleOf(g, "10.1.0.31")).toBe("database");
  const ruleset = renderGroupStandin(g);
  expect(() => nftCheck(ruleset)).not.toThrow();
  // The database's ingress, rule by rule as the plan declares it: pgBouncer and its peers on 5432, nobody else.
  const ingress = ruleset
    .split("chain ingress_g_prod_g1_database {\n")[1]
    .split("  }")[0]
    .trim()
    .split("\n")
    .map((l) => l.trim());
  expect(ingress.filter((l) => l.includes("dport 5432")).sort()).toEqual([
    "ip saddr @g_prod_g1_database tcp dport 5432 accept",
    "ip saddr @g_prod_g1_pgbouncer tcp dport 5432 accept",
  ]);
  expect(ingress).toContain("ip saddr 10.1.0.1/32 tcp dport 22 accept");
  // From anywhere: HAProxy's 80 and 443, and nothing else of any group.
  expect(ruleset.match(/^ {4}tcp dport \d+ accept$/gm)!.sort()).toEqual(["    tcp dport 443 accept", "    tcp dport 80 accept"]);
});

test("phase 3: the VRRP address is in HAProxy's group with both nodes, VRRP passes between them only, and the real nft accepts the ruleset", async () => {
  const g = await groupsOf(3);
  expect(g.members["prod-g1-lb"]).toEqual(["10.1.0.11", "10.1.0.12", "10.1.0.10"]);
  expect(g.members["prod-g1-database"]).toEqual(["10.1.0.30", "10.1.0.31", "10.1.0.32"]);
  const ruleset = renderGroupStandin(g);
  expect(() => nftCheck(ruleset)).not.toThrow();
  expect(ruleset.match(/.*ip protocol vrrp.*/g)!.map((l) => l.trim())).toEqual([
    "ip daddr @g_prod_g1_lb ip protocol vrrp jump ingress",
    "ip saddr @g_prod_g1_lb ip protocol vrrp accept",
  ]);
});
