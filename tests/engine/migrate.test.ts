import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import { cloudObjects, configure, makeSandbox, runCli, Sandbox, stateResources, removeSandboxes } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

const ovhAndOpenstack = (sb: Sandbox) => stateResources(sb, "prod").filter((r) => /^(ovh|openstack):/.test(r.type));

describe("probatio migrate: plans and refusals", () => {
  test("--dry-run --json prints one object with the plan and what each step changes, changing nothing", async () => {
    const sb = makeSandbox();
    const r = await runCli(sb, ["migrate", "3-to-4", "--stack", "prod", "--dry-run", "--json"]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan).toMatchObject({ from: 3, to: 4, roadmap: "probatio", strategy: "side-by-side" });
    expect(plan.steps.map((s: { name: string }) => s.name)).toEqual([
      "preflight",
      "state-backup",
      "provision-target",
      "replicate-data",
      "verify-data",
      "shift-reads",
      "cutover",
      "switch-dns",
      "decommission-source",
    ]);
    expect(plan.traffic).toBe("haproxy-stages");
    expect(plan.steps.every((s: { description: string }) => s.description.length > 20)).toBe(true);
    expect(plan.steps[2].changes.added).toContain("ovh:CloudProject/database:Database postgres-managed");
    // No stack deployed: the offline plan, and why the engine's preview could not run.
    expect(plan.steps[2].preview).toMatchObject({ ran: false, reason: expect.stringContaining("no engine preview") });
    expect(plan.steps[8].changes.removed).toContain("ovh:CloudProject/storage:Storage postgres-backups [protected: kept in the cloud]");
    expect(cloudObjects(sb)).toEqual([]);
  });

  test("a plan exists for every consecutive pair of both roadmaps", async () => {
    const sb = makeSandbox();
    for (const [roadmap, pairs] of [
      ["probatio", ["0-to-1", "1-to-2", "2-to-3", "3-to-4"]],
      ["koprogo", ["1-to-2", "2-to-3", "3-to-4"]],
    ] as const) {
      for (const p of pairs) {
        const r = await runCli(sb, ["migrate", p, "--roadmap", roadmap, "--stack", "prod", "--dry-run", "--json"]);
        expect(r.code).toBe(0);
        expect(JSON.parse(r.stdout).steps[0].name).toBe("preflight");
      }
    }
  });

  test("illegal requests are refused with a clear message: backwards, skipping phases", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    const back = await runCli(sb, ["migrate", "3-to-1", "--stack", "prod", "--yes"]);
    expect(back.code).toBe(6);
    expect(back.stderr).toContain("3-to-1 goes backwards");
    const skip = await runCli(sb, ["migrate", "0-to-4", "--stack", "prod", "--yes"]);
    expect(skip.code).toBe(6);
    expect(skip.stderr).toContain("0-to-4 skips phases: migrations move one phase at a time");
  });
});

describe("probatio migrate against the real engine (STUB cloud providers)", () => {
  test("on a phase 0 stack, a pair it is not in and a run without --yes or a terminal are refused; then 0-to-1 (in place): every step checkpointed, only additions, the stack ends in phase 1", async () => {
    const sb = makeSandbox({ PROBATIO_BACKUP_DIR: "" });
    await configure(sb, "prod");
    expect((await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"])).code).toBe(0);
    const before = new Map(ovhAndOpenstack(sb).map((r) => [r.urn, (r as { id?: string }).id]));
    const wrong = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--yes"]);
    expect(wrong.code).toBe(6);
    expect(wrong.stderr).toContain("stack 'prod' is in phase 0, not 1");
    const noTty = await runCli(sb, ["migrate", "0-to-1", "--stack", "prod"]);
    expect(noTty.code).toBe(6);
    expect(noTty.stderr).toContain("pass --yes");
    const r = await runCli(sb, ["migrate", "0-to-1", "--stack", "prod", "--yes", "--json"], { PROBATIO_BACKUP_DIR: `${sb.root}/backups` });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).steps.map((s: { step: string }) => s.step)).toEqual([
      "preflight",
      "state-backup",
      "provision-target",
      "verify-target",
    ]);
    expect(readdirSync(`${sb.root}/backups`)).toHaveLength(1);
    const after = ovhAndOpenstack(sb);
    for (const [urn, id] of before) expect(after.find((x) => x.urn === urn)).toMatchObject({ id });
    const names = after
      .filter((x) => x.type === "ovh:Vps/vps:Vps")
      .map((x) => (x.outputs as { displayName: string }).displayName)
      .sort();
    expect(names).toEqual(["prod-api-1", "prod-backend-1", "prod-cache-1", "prod-ci-runner-1", "prod-database-1", "prod-monitoring-1"]);
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status.phase).toBe(1);
    expect(status.outputs.migration).toBeUndefined();
    const again = await runCli(sb, ["migrate", "0-to-1", "--stack", "prod", "--yes"]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain("stack 'prod' is in phase 1, not 0");
  });

  describe("1-to-2 (side by side): the preview, and the refusals while a migration is in progress", () => {
    let sb: Sandbox;
    beforeAll(async () => {
      sb = makeSandbox();
      await configure(sb, "prod");
      expect((await runCli(sb, ["up", "--phase", "1", "--stack", "prod", "--yes"])).code).toBe(0);
    });

    test("--dry-run on the deployed stack shows the engine's preview of the provisioning, and changes nothing", async () => {
      const state = JSON.stringify(stateResources(sb, "prod"));
      const config = readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8");
      const r = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--dry-run", "--json"]);
      expect(r.code).toBe(0);
      const preview = JSON.parse(r.stdout).steps[2].preview;
      expect(preview.ran).toBe(true);
      expect(preview.counts.delete).toBeUndefined();
      expect(preview.counts.replace).toBeUndefined();
      const creates = preview.resources.filter((x: { op: string }) => x.op === "create");
      expect(creates.filter((x: { type: string }) => x.type === "openstack:compute/instance:Instance")).toHaveLength(10);
      expect(JSON.stringify(stateResources(sb, "prod"))).toBe(state);
      expect(readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8")).toBe(config);
      const human = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--dry-run"]);
      expect(human.stderr + human.stdout).toMatch(/the engine's preview against stack 'prod': \d+ to create/);
    });

    test("a failed step stops the migration with its checkpoint; up and a second migrate are refused; --rollback restores phase 1", async () => {
      const phase1 = new Map(ovhAndOpenstack(sb).map((r) => [r.urn, (r as { id?: string }).id]));
      const r = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--yes"], { PROBATIO_BACKUP_DIR: `${sb.root}/backups` });
      expect(r.code).toBe(5);
      expect(r.stderr).toContain("PROBATIO_SOURCE_DB and PROBATIO_TARGET_DB must be set");
      const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
      expect(status.outputs.migration).toMatchObject({
        from: 1,
        to: 2,
        stage: "transitional",
        completed: ["preflight", "state-backup", "provision-target"],
      });
      expect(status.outputs.source.phase).toBe(1);
      // Both phases are in the stack: the target's instances beside the source's classic VPS.
      expect(ovhAndOpenstack(sb).filter((x) => x.type === "openstack:compute/instance:Instance").length).toBe(10);
      const up = await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes"]);
      expect(up.code).toBe(6);
      expect(up.stderr).toContain("a migration 1-to-2 is in progress");
      const again = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--yes"]);
      expect(again.code).toBe(6);
      expect(again.stderr).toContain("continue it with --resume");
      const rb = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--yes", "--rollback"]);
      expect(rb.code).toBe(0);
      expect(rb.stderr).toContain("kept in the cloud (protected target data store");
      const after = ovhAndOpenstack(sb);
      expect(after.filter((x) => x.type === "openstack:compute/instance:Instance")).toHaveLength(0);
      for (const [urn, id] of phase1) expect(after.find((x) => x.urn === urn)).toMatchObject({ id });
      expect(JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout)).toMatchObject({
        phase: 1,
        outputs: { phase: 1 },
      });
    });
    // Resumed to the end with the databases, after a failure in every step: tests/engine/migrateRecovery.test.ts.
  });
});
