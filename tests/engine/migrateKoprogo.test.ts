import { existsSync, readdirSync, readFileSync } from "fs";
import { join } from "path";
import { configure, makeSandbox, runCli, Sandbox, stateResources, removeSandboxes } from "./harness";

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

// KoproGo 2-to-3 (the Compose VPS to K3s: staging) and 3-to-4 (staging to production), side by side through the CLI,
// the decommission refused while the domain does not lead to the target, the data between PostgreSQL STAND-INS:
// tests/engine/migrateRecovery.test.ts, with a failure in every step.
