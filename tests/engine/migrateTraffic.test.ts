import { Client } from "pg";
import { fill } from "../service/dataSet";
import { stopProcess } from "../service/daemons";
import { Backend, get, Haproxy, startBackend, startHaproxy } from "../service/httpFixtures";
import { serverStats } from "../../cli/migrations/traffic";
import { passwords, PgNode, startPrimary, stopAll } from "../service/pgCluster";
import { configure, makeSandbox, runCli, Sandbox, stateResources, removeSandboxes } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

const ovhAndOpenstack = (sb: Sandbox) => stateResources(sb, "prod").filter((r) => /^(ovh|openstack):/.test(r.type));

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
      ["alertSmtpRelay", "smtp.example.com:587"],
      ["backendImage", "registry.example.com/vault/backend:1.0.0"],
      ["hsmIdentityUrn", "urn:v1:eu:identity:account:xx1111-ovh"],
    ]) {
      expect((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code).toBe(0);
    }
    expect((await runCli(sb, ["up", "--phase", "3", "--stack", "prod", "--yes"])).code).toBe(0);
    source = await startPrimary({ migrationPeers: ["127.0.0.1"] });
    target = await startPrimary({});
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
    target2 = await startPrimary({});
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
    expect(mid.outputs.migration.completed.slice(-3)).toEqual(["shift-reads", "cutover", "switch-dns"]);
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
