import { cloudObjects, configure, makeSandbox, runCli, Sandbox, stateResources, removeSandboxes } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

// Every pair of both roadmaps: the cloud fails in the middle of provisioning the target (a STUB cloud error on one of
// the target's resources, after others were created). The migration stops with its checkpoint; --rollback removes
// what was created and leaves the source phase exactly as it was (the same resources, ids and cloud objects).
const pairs: readonly { roadmap: string; spec: string; from: number; failOn: string; strategy?: string; nothingCreated?: boolean }[] = [
  { roadmap: "probatio", spec: "0-to-1", from: 0, failOn: "monitoring-1" },
  { roadmap: "probatio", spec: "1-to-2", from: 1, failOn: "backend-3" },
  { roadmap: "probatio", spec: "2-to-3", from: 2, failOn: "redis-nodes-3" },
  { roadmap: "probatio", spec: "3-to-4", from: 3, failOn: "postgres-managed" },
  // The target is one VPS: the error is on the first (and only) thing created.
  { roadmap: "koprogo", spec: "1-to-2", from: 1, failOn: "app-1", strategy: "side-by-side", nothingCreated: true },
  { roadmap: "koprogo", spec: "2-to-3", from: 2, failOn: "k8s-agents-2" },
  { roadmap: "koprogo", spec: "3-to-4", from: 3, failOn: "k8s-servers-3" },
];

const SETTINGS: readonly [string, string][] = [
  ["alertEmail", "oncall@example.com"],
  ["alertSmtpRelay", "smtp.example.com:587"],
  ["backendImage", "registry.example.com/app/backend:1.0.0"],
  ["domain", "api.example.com"],
  ["hsmIdentityUrn", "urn:v1:eu:identity:account:xx1111-ovh"],
];

const cloudIds = (sb: Sandbox) =>
  stateResources(sb, "prod")
    .filter((r) => /^(ovh|openstack|aws|kubernetes):/.test(r.type))
    .map((r) => `${r.urn} ${(r as { id?: string }).id}`)
    .sort();

describe("a cloud error while provisioning the target, for every pair: checkpointed, then rolled back to the source untouched", () => {
  test.each(pairs)("$roadmap $spec", async ({ roadmap, spec, from, failOn, strategy, nothingCreated }) => {
    const sb = makeSandbox({ PROBATIO_BACKUP_DIR: "" });
    await configure(sb, "prod");
    for (const [k, v] of SETTINGS) expect((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code).toBe(0);
    const up = await runCli(sb, ["up", "--roadmap", roadmap, "--phase", String(from), "--stack", "prod", "--yes"]);
    expect(up.stderr).not.toMatch(/error:/);
    const before = cloudIds(sb);
    const objects = cloudObjects(sb);
    const args = ["migrate", spec, "--roadmap", roadmap, "--stack", "prod", "--yes", ...(strategy ? ["--strategy", strategy] : [])];
    const env = { PROBATIO_STUB_FAIL_CREATE: failOn, PROBATIO_BACKUP_DIR: `${sb.root}/backups` };
    const r = await runCli(sb, args, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`STUB cloud error: quota exceeded creating ${failOn}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const status = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(status.outputs.migration.completed).toEqual(["preflight", "state-backup"]);
    // Some of the target was created before the error (the half-applied state a rollback must clean).
    if (!nothingCreated) expect(cloudIds(sb).length).toBeGreaterThan(before.length);
    const back = await runCli(sb, [...args, "--rollback"], { PROBATIO_BACKUP_DIR: `${sb.root}/backups` });
    expect(back.stderr).not.toMatch(/error:/);
    expect(back.code).toBe(0);
    expect(cloudIds(sb)).toEqual(before);
    // The target's protected stores created before the error stay in the cloud (released, never deleted), listed.
    const left = cloudObjects(sb).filter((o) => !objects.includes(o));
    const kept = [...back.stderr.matchAll(/kept in the cloud \(protected target data store, no longer managed\): (\S+) (\S+)/g)].filter(
      ([, type]) => !type.startsWith("probatio:"), // components: nothing in the cloud
    );
    expect(left.length).toBe(kept.length);
    const after = JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect(after.phase).toBe(from);
    expect(after.outputs.migration).toBeUndefined();
  });
});
