import { join } from "path";
import { cloudObjects, configure, makeSandbox, runCli, stackLocks, startCli, stateResources, removeSandboxes } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

describe("clear refusals before the engine changes anything (STUB cloud providers)", () => {
  test("missing required config: exit 5, names each missing setting and the command to set it, creates nothing", async () => {
    const sb = makeSandbox();
    const r = await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("missing required configuration: cloudProject");
    expect(r.stderr).toContain("dbPassword");
    expect(r.stderr).toContain("probatio config set --stack prod --secret dbPassword");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(cloudObjects(sb)).toEqual([]);
  });

  test("no terminal and no --yes: up refuses instead of hanging, creates nothing", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    const r = await runCli(sb, ["up", "--phase", "0", "--stack", "prod"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("pass --yes");
    expect(cloudObjects(sb)).toEqual([]);
    expect(stateResources(sb, "prod").filter((x) => x.type !== "pulumi:pulumi:Stack")).toEqual([]);
  });

  test("a setting's bad value is refused by `config set` (exit 2, the rule and an example), and the stack keeps none", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    const relay = await runCli(sb, ["config", "set", "--stack", "prod", "alertSmtpRelay", "smtp.example.com"]);
    expect(relay.code).toBe(2);
    expect(relay.stderr).toContain("'alertSmtpRelay' must be host:port, e.g. smtp.example.com:587 (got 'smtp.example.com')");
    const maxconn = await runCli(sb, ["config", "set", "--stack", "prod", "lbMaxConnections", "lots"]);
    expect(maxconn.code).toBe(2);
    expect(maxconn.stderr).toContain("'lbMaxConnections' must be a whole number from 100 to 1000000");
    expect(maxconn.stderr).not.toMatch(/\n\s+at /);
    const list = await runCli(sb, ["config", "list", "--stack", "prod", "--json"]);
    const rows = JSON.parse(list.stdout) as { key: string; value: string | null }[];
    expect(rows.filter((r) => r.key === "alertSmtpRelay" || r.key === "lbMaxConnections").map((r) => r.value)).toEqual([null, null]);
  });

  test("a stack's own prices: `config set priceOverrides` refuses an unknown item, and `estimate --stack` uses the override, saying so", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    const bad = await runCli(sb, ["config", "set", "--stack", "prod", "priceOverrides", '{"d9-99": 3}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'d9-99' is not a priced item (known: vps-2025-model1,");
    expect((await runCli(sb, ["config", "set", "--stack", "prod", "priceOverrides", '{"d2-8": 21.5}'])).code).toBe(0);
    const r = await runCli(sb, ["estimate", "--phase", "2", "--stack", "prod", "--json"]);
    expect(r.code).toBe(0);
    const items = JSON.parse(r.stdout).cost.items as { price: string; unitMonthlyEur: number; source: string; reference: string }[];
    const d28 = items.filter((i) => i.price === "d2-8");
    expect(d28.map((i) => [i.unitMonthlyEur, i.source])).toEqual([
      [21.5, "stack"],
      [21.5, "stack"],
    ]);
    expect(d28[0].reference).toBe("stack 'prod' priceOverrides (was 12 EUR, hand)");
  });

  test("unknown phase and unknown roadmap: usage errors (exit 2) without a stack trace", async () => {
    const sb = makeSandbox();
    const p = await runCli(sb, ["up", "--phase", "9", "--stack", "prod", "--yes"]);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("unknown phase '9' for roadmap probatio");
    expect(p.stderr).toContain("phases of probatio: 0, 1, 2, 3, 4");
    const r = await runCli(sb, ["plan", "--phase", "1", "--roadmap", "acme"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown roadmap 'acme'");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const noStack = await runCli(sb, ["up", "--phase", "0", "--yes"]);
    expect(noStack.code).toBe(2);
    expect(noStack.stderr).toContain("required option '-s, --stack <name>' not specified");
  });

  test("no Pulumi binary anywhere: exit 4 and says how to get one", async () => {
    // An empty cache inside the sandbox (removed with it).
    const sb = makeSandbox({ PROBATIO_PULUMI_ROOT: "" });
    sb.env.PROBATIO_CACHE = join(sb.root, "empty-cache");
    const r = await runCli(sb, ["status", "--stack", "prod"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("the Pulumi CLI was not found");
    expect(r.stderr).toContain("scripts/build-pulumi.sh");
  });

  test("no passphrase: exit 5 and says which variable to set", async () => {
    const sb = makeSandbox({ PULUMI_CONFIG_PASSPHRASE: "" });
    const r = await runCli(sb, ["status", "--stack", "prod"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("PULUMI_CONFIG_PASSPHRASE");
  });

  test("the operator's pipe closes during an up (a closed `| tee`, a lost session): the update goes on to the end, its lock released, and the CLI exits", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    const run = startCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"]);
    let seen = "";
    await new Promise<void>((resolve) => run.child.stderr!.on("data", (d) => (seen += d) && seen.includes(" create ") && resolve()));
    // Nobody reads any more: every later write fails (EPIPE).
    run.child.stdout!.destroy();
    run.child.stderr!.destroy();
    const code = await new Promise<number | null>((resolve) => run.child.on("exit", (c) => resolve(c)));
    // Once seen: the errors were swallowed and kept by the engine's runtime, the CLI writing them at 40 % CPU for
    // twenty minutes, 5.9 GB resident, its update never finished.
    expect(code).toBe(0);
    expect(stackLocks(sb)).toEqual([]);
    expect(stateResources(sb, "prod").some((r) => r.type.startsWith("ovh:"))).toBe(true);
    expect(cloudObjects(sb).length).toBeGreaterThan(0);
  }, 240_000);
});
