import { existsSync, readdirSync, readFileSync } from "fs";
import { join } from "path";
import { Client } from "pg";
import { fill } from "../service/dataSet";
import { passwords, PgNode, startPrimary, stopAll } from "../service/pgCluster";
import { cloudObjects, configure, makeSandbox, runCli, Sandbox, stateResources, removeSandboxes } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

const vpsOf = (sb: Sandbox) => stateResources(sb, "prod").filter((r) => r.type === "ovh:Vps/vps:Vps") as { urn: string; id?: string }[];

// KoproGo 1-to-2 as the seed's option 1: the VPS resized by OVH, the new configuration delivered in place.
describe("KoproGo 1-to-2 (resize, the default) on the real engine", () => {
  test("stops at the resize with what to do; --resume --resized delivers phase 2 to the same VPS, nothing rebuilt", async () => {
    const sb = makeSandbox({ PROBATIO_BACKUP_DIR: "" });
    await configure(sb, "prod");
    for (const [k, v] of [
      ["backendImage", "registry.example.com/koprogo/backend:1.0.0"],
      ["domain", "api.koprogo.example"],
    ])
      expect((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code).toBe(0);
    expect((await runCli(sb, ["up", "--roadmap", "koprogo", "--phase", "1", "--stack", "prod", "--yes"])).code).toBe(0);
    const before = vpsOf(sb);
    expect(before).toHaveLength(1);
    const env = { PROBATIO_BACKUP_DIR: `${sb.root}/backups` };
    const dry = JSON.parse(
      (await runCli(sb, ["migrate", "1-to-2", "--roadmap", "koprogo", "--stack", "prod", "--dry-run", "--json"])).stdout,
    );
    expect(dry).toMatchObject({
      strategy: "in-place",
      resize: { machine: "app-1", toOffer: "vps-essential-2-4-80" },
      alternatives: ["side-by-side"],
    });
    const first = await runCli(sb, ["migrate", "1-to-2", "--roadmap", "koprogo", "--stack", "prod", "--yes"], env);
    expect(first.code).toBe(5);
    expect(first.stderr).toContain(
      "resize prod-app-1 to vps-essential-2-4-80 (2 vCPU, 4 GB, 80 GB) before the new configuration is delivered",
    );
    expect(first.stderr).toContain("--resume --resized");
    const t0 = Date.now();
    const r = await runCli(
      sb,
      ["migrate", "1-to-2", "--roadmap", "koprogo", "--stack", "prod", "--yes", "--resume", "--resized", "--json"],
      env,
    );
    expect(r.code).toBe(0);
    process.stdout.write(`KoproGo 1-to-2 (resize) on the stub engine: ${((Date.now() - t0) / 1000).toFixed(1)} s after the resize\n`);
    expect(JSON.parse(r.stdout).steps.map((s: { step: string }) => s.step)).toEqual(["resize-vps", "provision-target", "verify-target"]);
    // The same VPS (the order's plan is not re-ordered), its configuration now phase 2's: delivered in place.
    expect(vpsOf(sb)).toEqual(before);
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status).toMatchObject({ phase: 2, roadmap: "koprogo" });
    // The STAND-IN machine of the VPS got the phase 2 Compose file as a delta (Compose recreates what changed).
    const delivered = readdirSync(join(sb.root, "machines")).flatMap((host) =>
      readFileSync(join(sb.root, "machines", host, "deliveries.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { machine: string; plan: string; summary: string }),
    );
    expect(delivered.map((d) => [d.machine, d.plan])).toEqual([
      ["prod-app-1", "first"],
      ["prod-app-1", "delta"],
    ]);
    expect(delivered[1].summary).toContain("/opt/koprogo/docker-compose.yml");
    expect(delivered[1].summary).toContain("compose koprogo");
    const up = await runCli(sb, ["up", "--roadmap", "koprogo", "--phase", "2", "--stack", "prod", "--yes", "--json"]);
    expect(up.code).toBe(0);
    const changes = JSON.parse(up.stdout).changes;
    expect([changes.create ?? 0, changes.delete ?? 0, changes.replace ?? 0, changes.update ?? 0]).toEqual([0, 0, 0, 0]);
    expect(existsSync(join(sb.root, "backups"))).toBe(true);
  });
});

// KoproGo 2-to-3 (the Compose VPS to K3s) and 3-to-4 (staging to production), side by side through the CLI. The
// databases cannot run here as deployed (the Compose image, the Helm chart's PostgreSQL): Debian's PostgreSQL 15
// STAND-INS configured as probatio renders a primary (wal_level logical, the migration's role let in) carry the data.
describe("KoproGo 2-to-3 and 3-to-4 (side by side) on the real engine, the data between PostgreSQL STAND-INS", () => {
  let sb: Sandbox;
  const nodes: PgNode[] = [];
  const admin = (n: PgNode) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${n.port}/app`;
  const count = async (n: PgNode) => {
    const c = new Client({ connectionString: admin(n) });
    await c.connect();
    const r = (await c.query("SELECT count(*)::int AS n FROM documents")).rows[0].n as number;
    await c.end();
    return r;
  };
  beforeAll(async () => {
    sb = makeSandbox({ PROBATIO_BACKUP_DIR: "" });
    await configure(sb, "prod");
    for (const [k, v] of [
      ["backendImage", "registry.example.com/koprogo/backend:1.0.0"],
      ["domain", "api.koprogo.example"],
      ["alertEmail", "oncall@example.com"],
      ["alertSmtpRelay", "smtp.example.com:587"],
    ])
      expect((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code).toBe(0);
    const up = await runCli(sb, ["up", "--roadmap", "koprogo", "--phase", "2", "--stack", "prod", "--yes"]);
    expect(up.stderr).not.toMatch(/error/);
    for (let i = 0; i < 3; i++) nodes.push(await startPrimary({ migrationPeers: ["127.0.0.1"] }));
    await fill(`postgres://app:${passwords.app}@127.0.0.1:${nodes[0].port}/app`, 5_000);
  });
  afterAll(async () => stopAll(nodes));

  const move = async (spec: string, source: PgNode, target: PgNode) => {
    const env = { PROBATIO_SOURCE_DB: admin(source), PROBATIO_TARGET_DB: admin(target), PROBATIO_BACKUP_DIR: `${sb.root}/backups` };
    const t0 = Date.now();
    // The stack's domain does not resolve here: the decommission refuses (the source's entry is still needed), with
    // the migration checkpointed after the cutover; the operator checks DNS and resumes.
    const first = await runCli(sb, ["migrate", spec, "--roadmap", "koprogo", "--stack", "prod", "--yes", "--json"], env);
    expect(first.code).not.toBe(0);
    expect(first.stderr).toContain("cannot resolve api.koprogo.example to check that DNS points at the target");
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status.outputs.migration.completed).toEqual([
      "preflight",
      "state-backup",
      "provision-target",
      "replicate-data",
      "verify-data",
      "cutover",
    ]);
    const r = await runCli(
      sb,
      ["migrate", spec, "--roadmap", "koprogo", "--stack", "prod", "--yes", "--resume", "--skip-dns-check", "--json"],
      env,
    );
    process.stdout.write(`KoproGo ${spec} on the stub engine: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    expect(r.stderr).not.toMatch(/error:/);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as { steps: { step: string; detail?: { kept?: { type: string }[] } }[] };
  };

  test("2-to-3: the K3s cluster (staging) beside the VPS, the data replicated and cut over, the VPS decommissioned", async () => {
    const vps = vpsOf(sb);
    const out = await move("2-to-3", nodes[0], nodes[1]);
    expect(out.steps.map((s) => s.step)).toEqual(["decommission-source"]);
    expect(await count(nodes[1])).toBe(5_000);
    expect(vpsOf(sb)).toHaveLength(0);
    // The VPS holds the Compose volume: protected, it is left in the (stub) cloud, listed, never deleted.
    expect(cloudObjects(sb).filter((f) => f.startsWith(vps[0].id!))).toHaveLength(1);
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status).toMatchObject({ phase: 3, roadmap: "koprogo" });
    expect(status.outputs.environment).toBe("staging");
    expect(status.outputs.machines).toEqual({ "k3s-agent": ["prod-k3s-agent-1", "prod-k3s-agent-2"], "k3s-server": ["prod-k3s-server-1"] });
    const up = await runCli(sb, ["up", "--roadmap", "koprogo", "--phase", "3", "--stack", "prod", "--yes", "--json"]);
    const changes = JSON.parse(up.stdout).changes;
    expect([changes.create ?? 0, changes.delete ?? 0, changes.replace ?? 0]).toEqual([0, 0, 0]);
  });

  test("3-to-4: production (K3s HA) beside staging, the data moved again, staging decommissioned", async () => {
    const out = await move("3-to-4", nodes[1], nodes[2]);
    expect(out.steps.at(-1)!.step).toBe("decommission-source");
    expect(await count(nodes[2])).toBe(5_000);
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status).toMatchObject({ phase: 4, roadmap: "koprogo" });
    expect(status.outputs.machines).toEqual({
      "k3s-agent": ["prod-k3s-agent-1", "prod-k3s-agent-2", "prod-k3s-agent-3"],
      "k3s-server": ["prod-k3s-server-1", "prod-k3s-server-2", "prod-k3s-server-3"],
    });
    const up = await runCli(sb, ["up", "--roadmap", "koprogo", "--phase", "4", "--stack", "prod", "--yes", "--json"]);
    const changes = JSON.parse(up.stdout).changes;
    expect([changes.create ?? 0, changes.delete ?? 0, changes.replace ?? 0]).toEqual([0, 0, 0]);
  });
});
