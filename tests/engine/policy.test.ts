/**
 * probatio's policy pack run by the real engine (an executable analyzer, bin/plugins/probatio-policy-analyzer) on a
 * deliberately broken configuration: a managed database open to the world, a WORM bucket locked for one year, a
 * plaintext password. `preview` and `up` are refused with each rule's message; the broken resources are never created.
 * (That `probatio up` hands the engine the pack on every phase is shown by every other engine test: a mandatory
 * violation would fail them; the edge test reads the pack's Cloudflare advisory in `up`'s output.) Then probatio's
 * own first `up` of a stack set outside the EU: refused by the pack in the engine's preview, before anything exists.
 */
import { mkdirSync, readFileSync, writeFileSync } from "fs";
import { join } from "path";
import * as pulumi from "@pulumi/pulumi";
import { findPulumiRoot } from "../../cli/engineBinary";
import { POLICY_PACKS } from "../../cli/automation/workspace";
import { translateEngineError } from "../../cli/automation/operation";
import { ProbatioError } from "../../lib/errors";
import { cloudObjects, configure, makeSandbox, removeSandboxes, runCli, stateResources } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(300_000);

/** The broken program: each resource breaks one rule the issue names; `fine` breaks none. */
function brokenProgram(): Record<string, unknown> {
  const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
  const openstack = require("@pulumi/openstack") as typeof import("@pulumi/openstack");
  new ovh.cloudproject.Database(
    "open-db",
    {
      serviceName: "project",
      engine: "postgresql",
      version: "16",
      plan: "essential",
      flavor: "db1-4",
      nodes: [{ region: "GRA" }],
      ipRestrictions: [{ ip: "0.0.0.0/0", description: "everyone" }],
    },
    { protect: true },
  );
  new ovh.cloudproject.Storage(
    "one-year-worm",
    {
      serviceName: "project",
      regionName: "GRA",
      name: "archives",
      objectLock: { status: "enabled", rule: { mode: "compliance", period: "P1Y" } },
      versioning: { status: "enabled" },
      encryption: { sseAlgorithm: "AES256" },
    },
    { protect: true },
  );
  new openstack.compute.Instance("plaintext", {
    name: "app",
    flavorName: "d2-2",
    imageName: "Debian 12",
    securityGroups: ["prod-g1-backend"],
    metadata: { dbPassword: "hunter2-plain" },
  });
  new openstack.compute.Instance("fine", {
    name: "app-2",
    flavorName: "d2-2",
    imageName: "Debian 12",
    securityGroups: ["prod-g1-backend"],
    metadata: { dbPassword: pulumi.secret("kept-secret") as unknown as string },
  });
  return {};
}

describe("the policy pack, run by the real engine, refuses a broken configuration", () => {
  let run: (
    op: "preview" | "up",
  ) => Promise<{ error?: ProbatioError; events: { policyName: string; enforcementLevel: string; message: string }[] }>;
  let created: () => Promise<string[]>;

  beforeAll(async () => {
    const sb = makeSandbox();
    const project = join(sb.root, "broken");
    mkdirSync(project);
    writeFileSync(join(project, "Pulumi.yaml"), "name: broken\nruntime: nodejs\n");
    const { LocalWorkspace, PulumiCommand } = await import("@pulumi/pulumi/automation");
    const pulumiCommand = await PulumiCommand.get({ root: findPulumiRoot() });
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "prod", projectName: "broken", program: async () => brokenProgram() },
      {
        workDir: project,
        pulumiCommand,
        secretsProvider: "passphrase",
        envVars: { ...(sb.env as Record<string, string>), PULUMI_CONFIG_PASSPHRASE: "broken-stack" },
      },
    );
    run = async (op) => {
      const events: { policyName: string; enforcementLevel: string; message: string }[] = [];
      const onEvent = (e: import("@pulumi/pulumi/automation").EngineEvent) => {
        if (e.policyEvent) events.push(e.policyEvent);
      };
      try {
        if (op === "preview") await stack.preview({ policyPacks: POLICY_PACKS, color: "never", onEvent });
        else await stack.up({ policyPacks: POLICY_PACKS, color: "never", onEvent });
        return { events };
      } catch (err) {
        return { error: translateEngineError(err, "prod"), events };
      }
    };
    created = async () => ((await stack.exportStack()).deployment?.resources ?? []).map((r: { urn: string }) => r.urn);
  });

  const mandatory = (events: { policyName: string; enforcementLevel: string; message: string }[]) =>
    events
      .filter((e) => e.enforcementLevel === "mandatory")
      .map((e) => `${e.policyName}: ${e.message.trim().split("\n").pop()}`)
      .sort();

  const expected = [
    "managed-database-not-open: ovh:CloudProject/database:Database open-db is open to 0.0.0.0/0: restrict it to the subnet of its clients",
    "no-plaintext-secret: openstack:compute/instance:Instance plaintext has metadata.dbPassword in plaintext: pass it as a secret (pulumi.secret, or config set --secret)",
    "worm-compliance: ovh:CloudProject/storage:Storage one-year-worm retains P1Y: at least P10Y",
  ];

  test("preview: refused (exit code 6) with each rule's message; the secret password and the fenced instance pass", async () => {
    const { error, events } = await run("preview");
    expect(mandatory(events)).toEqual(expected);
    expect(error).toBeInstanceOf(ProbatioError);
    expect(error!.exitCode).toBe(6);
    expect(error!.message).toMatch(/^refused by probatio's policy pack \(3 mandatory violations\):/);
    for (const line of expected) expect(error!.message).toContain(line);
    // The policy never sees a secret's value, and never prints it.
    expect(JSON.stringify(events)).not.toContain("kept-secret");
    expect(await created()).toEqual([]);
  });

  test("up: refused at the first violating resource; neither the open database, nor the one-year archive, nor the plaintext instance exists", async () => {
    const { error, events } = await run("up");
    // The engine stops the update at the first mandatory violation: the others are not asked (nor created).
    expect(mandatory(events).length).toBeGreaterThan(0);
    for (const v of mandatory(events)) expect(expected).toContain(v);
    expect(error?.exitCode).toBe(6);
    const names = (await created()).map((urn) => urn.split("::").pop());
    for (const broken of ["open-db", "one-year-worm", "plaintext"]) expect(names).not.toContain(broken);
  });
});

describe("probatio up on a new stack breaking a mandatory policy", () => {
  test("refused (exit 6) by the pack in the engine's preview: nothing created, nothing in the state, the stack's settings as they were", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    expect((await runCli(sb, ["config", "set", "--stack", "prod", "region", "BHS5"])).code).toBe(0);
    const settings = readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8");
    const r = await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/refused by probatio's policy pack \(\d+ mandatory violations?\):/);
    expect(r.stderr).toContain(
      "region-sovereignty: ovh:CloudProject/storage:Storage postgres-backups is in BHS, outside the EU: choose a region in France (GRA, SBG, RBX, PAR)",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(cloudObjects(sb)).toEqual([]);
    expect(stateResources(sb, "prod").filter((x) => x.type !== "pulumi:pulumi:Stack")).toEqual([]);
    expect(readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8")).toBe(settings);
  });
});
