import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import { Client } from "pg";
import { fill } from "../service/dataSet";
import { stopProcess } from "../service/daemons";
import { Backend, get, Haproxy, startBackend, startHaproxy } from "../service/httpFixtures";
import { serverStats } from "../../cli/migrations/traffic";
import { passwords, PgNode, startPrimary, stopAll } from "../service/pgCluster";
import { cloudObjects, configure, makeSandbox, runCli, Sandbox, stateResources, removeSandboxes } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(300_000);

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
      "decommission-source",
    ]);
    expect(plan.traffic).toBe("haproxy-stages");
    expect(plan.steps.every((s: { description: string }) => s.description.length > 20)).toBe(true);
    expect(plan.steps[2].changes.added).toContain("ovh:CloudProject/database:Database postgres-managed");
    // No stack deployed: the offline plan, and why the engine's preview could not run.
    expect(plan.steps[2].preview).toMatchObject({ ran: false, reason: expect.stringContaining("no engine preview") });
    expect(plan.steps[7].changes.removed).toContain("ovh:CloudProject/storage:Storage postgres-backups [protected: kept in the cloud]");
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

  test("illegal requests are refused with a clear message: backwards, skipping phases, a phase the stack is not in", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    const back = await runCli(sb, ["migrate", "3-to-1", "--stack", "prod", "--yes"]);
    expect(back.code).toBe(6);
    expect(back.stderr).toContain("3-to-1 goes backwards");
    const skip = await runCli(sb, ["migrate", "0-to-4", "--stack", "prod", "--yes"]);
    expect(skip.code).toBe(6);
    expect(skip.stderr).toContain("0-to-4 skips phases: migrations move one phase at a time");
    expect((await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"])).code).toBe(0);
    const wrong = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--yes"]);
    expect(wrong.code).toBe(6);
    expect(wrong.stderr).toContain("stack 'prod' is in phase 0, not 1");
    const noTty = await runCli(sb, ["migrate", "0-to-1", "--stack", "prod"]);
    expect(noTty.code).toBe(6);
    expect(noTty.stderr).toContain("pass --yes");
  });
});

describe("probatio migrate against the real engine (STUB cloud providers)", () => {
  test("0-to-1 (in place): every step checkpointed, only additions, the stack ends in phase 1", async () => {
    const sb = makeSandbox({ PROBATIO_BACKUP_DIR: "" });
    await configure(sb, "prod");
    expect((await runCli(sb, ["up", "--phase", "0", "--stack", "prod", "--yes"])).code).toBe(0);
    const before = new Map(ovhAndOpenstack(sb).map((r) => [r.urn, (r as { id?: string }).id]));
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

  describe("1-to-2 (side by side) with two real PostgreSQL servers for the data", () => {
    let sb: Sandbox;
    let source: PgNode, target: PgNode;
    const admin = (n: PgNode) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${n.port}/app`;
    beforeAll(async () => {
      sb = makeSandbox();
      await configure(sb, "prod");
      expect((await runCli(sb, ["up", "--phase", "1", "--stack", "prod", "--yes"])).code).toBe(0);
      source = await startPrimary({ standbys: [], adminCidrs: ["127.0.0.1/32"] });
      target = await startPrimary({ standbys: [], adminCidrs: ["127.0.0.1/32"] });
      await fill(`postgres://app:${passwords.app}@127.0.0.1:${source.port}/app`, 20_000);
    });
    afterAll(async () => stopAll([source, target]));

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

    test("run, fail on the data step, --resume with the databases: replicated, verified, cut over, source decommissioned, protected stores kept", async () => {
      const first = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--yes"], { PROBATIO_BACKUP_DIR: `${sb.root}/backups` });
      expect(first.code).toBe(5);
      const env = { PROBATIO_SOURCE_DB: admin(source), PROBATIO_TARGET_DB: admin(target), PROBATIO_BACKUP_DIR: `${sb.root}/backups` };
      const r = await runCli(sb, ["migrate", "1-to-2", "--stack", "prod", "--yes", "--resume", "--json"], env);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.steps.map((s: { step: string }) => s.step)).toEqual(["replicate-data", "verify-data", "cutover", "decommission-source"]);
      const cut = out.steps.find((s: { step: string }) => s.step === "cutover").detail;
      expect(cut.tables.every((t: { equal: boolean }) => t.equal)).toBe(true);
      const decom = out.steps.find((s: { step: string }) => s.step === "decommission-source").detail;
      expect(decom.kept.map((k: { type: string }) => k.type)).toEqual(
        expect.arrayContaining(["ovh:CloudProject/storage:Storage", "ovh:Vps/vps:Vps"]),
      );
      // The classic VPS of phase 1 are gone from the stack; the protected database VPS and bucket stay in the (stub) cloud.
      const now = ovhAndOpenstack(sb);
      expect(now.filter((x) => x.type === "ovh:Vps/vps:Vps")).toHaveLength(0);
      expect(cloudObjects(sb).filter((f) => f.startsWith("vps-"))).toHaveLength(1);
      expect(now.filter((x) => x.type === "openstack:compute/instance:Instance")).toHaveLength(10);
      const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
      expect(status).toMatchObject({ phase: 2 });
      expect(status.outputs.migration).toBeUndefined();
      // A later up at phase 2 changes nothing: the target stayed where it was built (aliases, no replacement).
      const up = await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes", "--json"]);
      expect(up.code).toBe(0);
      const changes = JSON.parse(up.stdout).changes;
      expect(changes.create ?? 0).toBe(0);
      expect(changes.delete ?? 0).toBe(0);
      const c = new Client({ connectionString: admin(target) });
      await c.connect();
      expect((await c.query("SELECT count(*)::int AS n FROM documents")).rows[0].n).toBe(20_000);
      await c.end();
    });
  });
});

describe("3-to-4: the source's HAProxy moves the reads in stages, then everything at the switch (real HAProxy and PostgreSQL)", () => {
  let sb: Sandbox;
  let source: PgNode, target: PgNode, target2: PgNode | undefined;
  let apps: Backend[], next: Backend;
  let lb: Haproxy;
  const admin = (n: PgNode) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${n.port}/app`;
  beforeAll(async () => {
    sb = makeSandbox();
    await configure(sb, "prod");
    for (const [k, v] of [
      ["domain", "localhost"],
      ["alertEmail", "oncall@example.com"],
      ["backendImage", "registry.example.com/vault/backend:1.0.0"],
      ["hsmIdentityUrn", "urn:v1:eu:identity:account:xx1111-ovh"],
    ]) {
      expect((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code).toBe(0);
    }
    expect((await runCli(sb, ["up", "--phase", "3", "--stack", "prod", "--yes"])).code).toBe(0);
    source = await startPrimary({ standbys: [], adminCidrs: ["127.0.0.1/32"] });
    target = await startPrimary({ standbys: [], adminCidrs: ["127.0.0.1/32"] });
    await fill(`postgres://app:${passwords.app}@127.0.0.1:${source.port}/app`, 5_000);
    apps = [await startBackend("backend1"), await startBackend("backend2"), await startBackend("backend3")];
    next = await startBackend("phase4");
    lb = await startHaproxy(apps);
  });
  afterAll(async () => {
    await stopProcess(lb?.proc);
    await Promise.all([...(apps ?? []), next].map((b) => b?.stop().catch(() => undefined)));
    await stopAll([source, target, target2]);
  });

  test("without the load balancers' addresses the shift stops (exit 5); a failing target fails the gate; --rollback puts everything back; a new run moves reads in stages and cuts over with no failed request; decommission waits for DNS", async () => {
    const db = { PROBATIO_SOURCE_DB: admin(source), PROBATIO_TARGET_DB: admin(target), PROBATIO_BACKUP_DIR: `${sb.root}/backups` };
    const first = await runCli(sb, ["migrate", "3-to-4", "--stack", "prod", "--yes", "--stages", "50,100", "--observe", "2"], db);
    expect(first.code).toBe(5);
    expect(first.stderr).toContain("PROBATIO_SOURCE_LB_ADMIN and PROBATIO_TARGET_ENTRY must be set");
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status.outputs.migration.completed).toEqual(["preflight", "state-backup", "provision-target", "replicate-data", "verify-data"]);
    // Users keep using the service through the source's HAProxy while the migration runs.
    const seen: { method: string; status: number; body: string }[] = [];
    let running = true;
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const method = i % 3 === 2 ? "POST" : "GET";
        seen.push({ method, ...(await get(lb.port, "/doc", method).catch(() => ({ status: 0, body: "" }))) });
      }
    })();
    const env: NodeJS.ProcessEnv = {
      ...db,
      PROBATIO_SOURCE_LB_ADMIN: `127.0.0.1:${lb.adminPort}`,
      PROBATIO_TARGET_ENTRY: `127.0.0.1:${next.port}`,
    };
    // A target that fails its requests: the gate stops the shift, the reads come back, the checkpoint stays.
    next.status = 500;
    const failed = await runCli(
      sb,
      ["migrate", "3-to-4", "--stack", "prod", "--yes", "--resume", "--stages", "50,100", "--observe", "3"],
      env,
    );
    next.status = 200;
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/stage 50 % of the reads failed its health gate: \d+ of \d+ requests sent to the target failed/);
    expect(JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout).outputs.migration.completed).toHaveLength(5);
    // --rollback: the slot out of HAProxy's rotation, the replication ended, the target's machines gone, phase 3 intact.
    const rb = await runCli(sb, ["migrate", "3-to-4", "--stack", "prod", "--yes", "--rollback", "--json"], env);
    expect(rb.code).toBe(0);
    expect(JSON.parse(rb.stdout).rolledBack).toEqual(["replicate-data", "provision-target"]);
    const slot = (await serverStats({ host: "127.0.0.1", port: lb.adminPort })).filter((x) => x.server === "next");
    expect(slot.map((x) => [x.status, x.weight])).toEqual([
      ["MAINT", 0],
      ["MAINT", 0],
    ]);
    expect(ovhAndOpenstack(sb).filter((x) => x.urn.includes("NextPhase"))).toEqual([]);
    expect(JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout)).toMatchObject({
      phase: 3,
      outputs: { phase: 3 },
    });
    // Again from the start, into the freshly provisioned target's empty database (the rolled-back copy stays where it was).
    target2 = await startPrimary({ standbys: [], adminCidrs: ["127.0.0.1/32"] });
    env.PROBATIO_TARGET_DB = admin(target2);
    // The stack's domain does not lead to the target: everything up to the decommission, which is refused.
    const r = await runCli(sb, ["migrate", "3-to-4", "--stack", "prod", "--yes", "--stages", "50,100", "--observe", "2"], env);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(
      /not decommissioning the source: localhost resolves to|cannot resolve localhost to check that DNS points at the target/,
    );
    expect(r.stderr).toMatch(/reads 50 % on the target: [1-9]\d* requests, 0 failed, target UP on 1 HAProxy/);
    expect(r.stderr).toMatch(/reads 100 % on the target: [1-9]\d* requests, 0 failed, target UP on 1 HAProxy/);
    expect(r.stderr).toContain("every request now goes to the target through the source's 1 HAProxy");
    const mid = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(mid.outputs.migration.completed.slice(-2)).toEqual(["shift-reads", "cutover"]);
    expect(
      ovhAndOpenstack(sb).filter((x) => x.type === "openstack:compute/instance:Instance" && !x.urn.includes("NextPhase")).length,
    ).toBeGreaterThan(0);
    // The operator has checked DNS: the decommission goes ahead.
    const last = await runCli(sb, ["migrate", "3-to-4", "--stack", "prod", "--yes", "--resume", "--json", "--skip-dns-check"], env);
    running = false;
    await traffic;
    expect(last.stderr).toBe("");
    expect(last.code).toBe(0);
    expect(JSON.parse(last.stdout).steps.map((x: { step: string }) => x.step)).toEqual(["decommission-source"]);
    // No request failed; writes reached the next phase only after the switch, and now everything does.
    // HAProxy's retries hid the failing target from users: not one request failed, before or during the shift.
    expect(seen.filter((x) => x.status !== 200)).toEqual([]);
    expect(seen.some((x) => x.method === "GET" && x.body === "phase4")).toBe(true);
    const firstPostOnTarget = seen.findIndex((x) => x.method === "POST" && x.body === "phase4");
    const lastReadOnSource = seen.map((x) => x.method === "GET" && x.body !== "phase4").lastIndexOf(true);
    expect(firstPostOnTarget).toBeGreaterThan(lastReadOnSource);
    for (let i = 0; i < 6; i++) {
      expect((await get(lb.port, "/doc", i % 2 ? "POST" : "GET")).body).toBe("phase4");
    }
    expect(JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout)).toMatchObject({ phase: 4 });
    const c = new Client({ connectionString: admin(target2) });
    await c.connect();
    expect((await c.query("SELECT count(*)::int AS n FROM documents")).rows[0].n).toBe(5_000);
    await c.end();
  });
});
