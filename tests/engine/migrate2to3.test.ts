import { readFileSync } from "fs";
import { join } from "path";
import {
  cloudObjects,
  configure,
  makeSandbox,
  runCli,
  Sandbox,
  snapshotSandbox,
  stateFile,
  stateResources,
  removeSandboxes,
} from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

// ProbatioVault 2-to-3 in place through the CLI on the real engine. The STUB OpenStack replaces what the real
// provider's schemas say it replaces (tests/stub-provider/forceNew.json), so a rebuild here is one in the cloud too.
const cloudResources = (sb: Sandbox) =>
  new Map(
    stateResources(sb, "prod")
      .filter((r) => /^(ovh|openstack):/.test(r.type))
      .map((r) => [r.urn, (r as { id?: string }).id]),
  );

/** Phase 2 deployed once; each test starts from it (state, stub cloud, settings put back). */
let sb: Sandbox;
let phase2: () => void;

beforeAll(async () => {
  sb = makeSandbox({ PROBATIO_BACKUP_DIR: "" });
  await deployPhase2(sb);
  phase2 = snapshotSandbox(sb);
});

async function deployPhase2(sb: Sandbox): Promise<void> {
  await configure(sb, "prod");
  for (const [k, v] of [
    ["alertEmail", "oncall@example.com"],
    ["alertSmtpRelay", "smtp.example.com:587"],
  ]) {
    if ((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code !== 0) throw new Error(`config set ${k}`);
  }
  const up = await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes"]);
  if (up.code !== 0) throw new Error(`up: ${up.stderr}`);
}

describe("ProbatioVault 2-to-3 (in place) on the real engine", () => {
  test("nothing rebuilt, the entry address kept, the stack in phase 3, a following up changing nothing", async () => {
    phase2();
    const before = cloudResources(sb);
    const entry = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout).outputs.loadBalancer;
    expect(entry).toMatch(/^198\.51\.100\.\d+$/);
    const t0 = Date.now();
    const r = await runCli(sb, ["migrate", "2-to-3", "--stack", "prod", "--yes", "--json"], { PROBATIO_BACKUP_DIR: `${sb.root}/backups` });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    process.stdout.write(`2-to-3 on the stub engine: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    expect(JSON.parse(r.stdout).steps.map((s: { step: string }) => s.step)).toEqual([
      "preflight",
      "state-backup",
      "provision-target",
      "verify-target",
    ]);
    const after = cloudResources(sb);
    // Every machine, port and group of phase 2 is still there with the same id: updated in place, not rebuilt.
    for (const [urn, id] of before) expect([urn, after.get(urn)]).toEqual([urn, id]);
    const added = [...after.keys()]
      .filter((u) => !before.has(u))
      .map((u) => u.split("::").pop())
      .sort();
    expect(added.filter((n) => !n!.startsWith("role-groups-"))).toEqual([
      "lb-nodes-2",
      "lb-port-2",
      "lb-vip",
      "postgres-standby-2",
      "redis-nodes-2",
      "redis-nodes-3",
    ]);
    // The fences gain exactly phase 3's new flows: Sentinel (and Redis replication) and VRRP between the pair.
    expect(added.filter((n) => n!.startsWith("role-groups-"))).toEqual([
      "role-groups-backend-egress-tcp-26379-from-cache",
      "role-groups-cache-egress-tcp-26379-from-cache",
      "role-groups-cache-egress-tcp-6379-from-cache",
      "role-groups-cache-ingress-tcp-26379-from-backend",
      "role-groups-cache-ingress-tcp-26379-from-cache",
      "role-groups-cache-ingress-tcp-6379-from-cache",
      "role-groups-lb-egress-vrrp-from-lb",
      "role-groups-lb-ingress-vrrp-from-lb",
    ]);
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status.phase).toBe(3);
    expect(status.outputs.migration).toBeUndefined();
    // The floating IP moved from the lone node's port to the VRRP address's: the entry address is the same.
    expect(status.outputs.loadBalancer).toBe(entry);
    const up = await runCli(sb, ["up", "--phase", "3", "--stack", "prod", "--yes", "--json"]);
    expect(up.code).toBe(0);
    const changes = JSON.parse(up.stdout).changes;
    expect([changes.create ?? 0, changes.delete ?? 0, changes.replace ?? 0]).toEqual([0, 0, 0]);
  });

  test("a provisioning whose preview rebuilds a machine holding data is refused before anything changes (exit 6); --rollback returns to phase 2 untouched", async () => {
    phase2();
    const before = cloudResources(sb);
    const objects = cloudObjects(sb);
    const stackFile = readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8");
    // A cloud that rebuilds an instance whose labels change (the phase label does, 2 to 3): not OpenStack's rule,
    // a test's, so that provisioning would rebuild the database machines.
    const rebuilds = { PROBATIO_STUB_FORCE_NEW: "openstack:compute/instance:Instance=metadata", PROBATIO_BACKUP_DIR: `${sb.root}/backups` };
    const r = await runCli(sb, ["migrate", "2-to-3", "--stack", "prod", "--yes"], rebuilds);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("the migration's 'provision the target' would replace ");
    expect(r.stderr).toContain("replace postgres-primary-1 (openstack:compute/instance:Instance; metadata changed; protected)");
    expect(r.stderr).toContain("replace redis-nodes-1 (openstack:compute/instance:Instance; metadata changed; holds data)");
    expect(r.stderr).toContain("Nothing was changed");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Nothing changed: the same resources with the same ids, the same cloud objects, the checkpoint before provisioning.
    expect(cloudResources(sb)).toEqual(before);
    expect(cloudObjects(sb)).toEqual(objects);
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status.phase).toBe(2);
    expect(status.outputs.migration.completed).toEqual(["preflight", "state-backup"]);
    // up is refused while the migration is in progress; --rollback drops it and the stack is phase 2 as it was.
    expect((await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes"])).code).toBe(6);
    const back = await runCli(sb, ["migrate", "2-to-3", "--stack", "prod", "--rollback", "--yes"], rebuilds);
    expect(back.code).toBe(0);
    expect(cloudResources(sb)).toEqual(before);
    const after = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(after.phase).toBe(2);
    expect(after.outputs.migration).toBeUndefined();
    expect(readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8")).toBe(stackFile);
  });

  test("up refuses, even with --allow-deletions, an update that would rebuild the protected primary (a region change), changing nothing", async () => {
    phase2();
    const before = cloudResources(sb);
    const state = readFileSync(stateFile(sb, "prod"), "utf8");
    expect((await runCli(sb, ["config", "set", "--stack", "prod", "region", "SBG5"])).code).toBe(0);
    const r = await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes", "--allow-deletions"]);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("up of stack 'prod' would replace ");
    // (The changed inputs in the engine's order, which is not fixed.)
    expect(r.stderr).toMatch(
      /replace postgres-primary-1 \(openstack:compute\/instance:Instance; (networks, region|region, networks) changed; protected\)/,
    );
    expect(r.stderr).toContain("replace redis-nodes-1 (openstack:compute/instance:Instance; networks changed; holds data)");
    expect(r.stderr).toContain("Nothing was changed");
    expect(cloudResources(sb)).toEqual(before);
    expect(readFileSync(stateFile(sb, "prod"), "utf8")).toBe(state);
  });
});
