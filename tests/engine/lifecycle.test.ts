import { existsSync, readdirSync, readFileSync } from "fs";
import { join } from "path";
import {
  cloudObjects,
  configure,
  makeSandbox,
  runCli,
  runPulumi,
  Sandbox,
  startCli,
  stateFile,
  stateResources,
  waitFor,
  removeSandboxes,
} from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

const PASSWORD = "Correct-Horse-Battery-42";

// The real `probatio` CLI drives the real `pulumi` engine against a temporary file backend; the OVH/OpenStack
// clouds are STUB provider plugins on PATH (tests/stub-provider), since no cloud API is reachable here.
describe("probatio phase 0 lifecycle against the real engine (STUB cloud providers)", () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = makeSandbox();
    await configure(sb, "prod", PASSWORD);
  });

  test("preview shows what up would create, and changes nothing: no resource, no cloud object, the stack file as it was", async () => {
    const config = readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8");
    const r = await runCli(sb, ["preview", "--phase", "0", "--stack", "prod", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ command: "preview", phase: 0, roadmap: "probatio" });
    expect(out.changes.create).toBe(17);
    expect(stateResources(sb, "prod").filter((x) => x.type !== "pulumi:pulumi:Stack")).toEqual([]);
    expect(cloudObjects(sb)).toEqual([]);
    expect(readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8")).toBe(config);
  });

  test("up creates ProbatioVault phase 0 (prod) and records it in the state", async () => {
    const r = await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes", "--json"]);
    expect(r.stderr).not.toMatch(/Error:\s+at /);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.result).toBe("succeeded");
    expect(out.changes.create).toBe(17);
    expect(out.outputs.phase).toBe(0);
    expect(out.outputs.machines).toEqual({
      backend: ["prod-backend-1"],
      api: ["prod-api-1"],
      database: ["prod-database-1"],
      "ci-runner": ["prod-ci-runner-1"],
    });
    const resources = stateResources(sb, "prod");
    const vps = resources.filter((x) => x.type === "ovh:Vps/vps:Vps");
    expect(vps.map((v) => (v.outputs as { displayName: string }).displayName).sort()).toEqual([
      "prod-api-1",
      "prod-backend-1",
      "prod-ci-runner-1",
      "prod-database-1",
    ]);
    const bucket = resources.find((x) => x.type === "ovh:CloudProject/storage:Storage")!;
    expect(bucket.protect).toBe(true);
    expect(bucket.outputs).toMatchObject({ name: "prod-pg-backups", versioning: { status: "enabled" } });
    // 4 VPS + bucket + backup user + S3 credential exist in the (stub) cloud.
    expect(cloudObjects(sb)).toHaveLength(7);
  });

  test("a second up reports no changes", async () => {
    const r = await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes", "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.changes.create ?? 0).toBe(0);
    expect(out.changes.update ?? 0).toBe(0);
    expect(out.changes.delete ?? 0).toBe(0);
    expect(out.changes.same).toBe(17);
  });

  test("status shows the phase, the resources and the outputs", async () => {
    const r = await runCli(sb, ["status", "--stack", "prod", "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ stack: "prod", roadmap: "probatio", phase: 0, environment: "prod", resources: 16 });
    expect(s.lastUpdate).toMatchObject({ kind: "update", result: "succeeded" });
    expect(s.outputs.database.backupBucket).toBe("prod-pg-backups");
    const human = await runCli(sb, ["status", "--stack", "prod"]);
    expect(human.stderr).toMatch(/phase\s+0/);
    expect(human.stderr).toMatch(/prod-database-1/);
  });

  test("the secret database password never appears in plaintext in the state or the stack file", async () => {
    const state = readFileSync(stateFile(sb, "prod"), "utf8");
    expect(state).not.toContain(PASSWORD);
    expect(state).toContain("ciphertext");
    const stackFile = readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8");
    expect(stackFile).toMatch(/probatio:dbPassword:\s*\n\s*secure: /);
    expect(stackFile).not.toContain(PASSWORD);
  });

  test("up to phase 1 on a phase 0 stack is refused and names the migration", async () => {
    const r = await runCli(sb, ["up", "--phase", "1", "--stack", "prod", "--yes"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("needs a migration");
    expect(r.stderr).toContain("probatio migrate 0-to-1 --stack prod");
    expect(stateResources(sb, "prod").filter((x) => x.type === "ovh:Vps/vps:Vps")).toHaveLength(4);
  });

  test("destroy is refused while the backups bucket and database are protected, and deletes nothing", async () => {
    const before = cloudObjects(sb).length;
    const r = await runCli(sb, ["destroy", "--stack", "prod", "--yes"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("protected");
    expect(r.stderr).toContain("postgres-backups");
    expect(r.stderr).toContain("Nothing was deleted");
    expect(cloudObjects(sb)).toHaveLength(before);
    expect(stateResources(sb, "prod").length).toBeGreaterThan(10);
  });

  test("after a deliberate unprotect, destroy leaves nothing behind", async () => {
    const u = await runPulumi(sb, ["state", "unprotect", "--all", "--yes", "--stack", "prod"]);
    expect(u.code).toBe(0);
    const r = await runCli(sb, ["destroy", "--stack", "prod", "--yes", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).changes.delete).toBe(17);
    expect(cloudObjects(sb)).toEqual([]);
    expect(stateResources(sb, "prod").filter((x) => x.type !== "pulumi:pulumi:Stack")).toEqual([]);
  });
});

describe("concurrency and interruption against the real engine (STUB cloud providers)", () => {
  test("two concurrent ups on one stack: one succeeds, the other fails with a clear lock message; the state stays intact", async () => {
    // Each create of the first update takes 10 s, so it still holds the lock while the second starts (a few seconds).
    const sb = makeSandbox({ PROBATIO_STUB_DELAY_MS: "10000" });
    await configure(sb, "prod");
    const first = startCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"]);
    await waitFor(
      () =>
        existsSync(join(sb.state, ".pulumi", "locks")) &&
        readdirSync(join(sb.state, ".pulumi", "locks"), { recursive: true }).some((f) => String(f).endsWith(".json")),
      60_000,
      "the first update's lock",
    );
    await waitFor(() => readdirSync(sb.cloud).some((f) => f.startsWith(".creating-")), 60_000, "the first update's first create");
    const second = await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"], { PROBATIO_STUB_DELAY_MS: "0" });
    const firstResult = await first.done;
    expect(firstResult.code).toBe(0);
    // The whole result, so that a failure shows what the second update printed.
    expect({ code: second.code, stderr: second.stderr }).toMatchObject({
      code: 3,
      stderr: expect.stringContaining("is locked by another update in progress"),
    });
    expect(second.stderr).toContain("probatio cancel --stack prod");
    expect(stateResources(sb, "prod").filter((x) => x.type === "ovh:Vps/vps:Vps")).toHaveLength(4);
    const again = await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes", "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).changes.same).toBe(17);
  });

  test("SIGINT during an up cancels cleanly: exit 130, no stale lock, and the next up finishes the job", async () => {
    const sb = makeSandbox({ PROBATIO_STUB_DELAY_MS: "1500" });
    await configure(sb, "prod");
    const run = startCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"]);
    await waitFor(() => readdirSync(sb.cloud).some((f) => f.startsWith(".creating-")), 60_000, "the first create to start");
    run.child.kill("SIGINT");
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("interrupted");
    // In-flight creates finish (the first wave of 6); the S3 credential, which waits for the backup user, never starts.
    const created = stateResources(sb, "prod").filter((x) => x.type.startsWith("ovh:")).length;
    expect(created).toBeLessThan(7);
    expect(cloudObjects(sb)).toHaveLength(created);
    const resume = await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes", "--json"], { PROBATIO_STUB_DELAY_MS: "0" });
    expect(resume.stderr).not.toContain("locked");
    expect(resume.code).toBe(0);
    expect(stateResources(sb, "prod").filter((x) => x.type.startsWith("ovh:"))).toHaveLength(7);
    expect(cloudObjects(sb)).toHaveLength(7);
  });
});
