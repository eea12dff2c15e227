/**
 * Phase 2 on the real engine with STUB cloud providers and STAND-IN machines (tests/stub-provider's delivery log): a
 * configuration change delivered in place to its ten machines, the private ones through the jump host, and a release
 * rolled out one backend at a time. In `npm run test:full` (jest.projects.js): on booted machines CI proves the same
 * delivery through the jump host (phase 3) and the same deploy and rollback (phase 0).
 */
import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import { configure, makeSandbox, runCli, stateResources, removeSandboxes } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

describe("a configuration change reaches running machines in place (real engine, STUB cloud providers, STAND-IN machines)", () => {
  test("a new SSH key rebuilds no machine: each machine's configuration is delivered again, only the key's file changes", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    expect((await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes"])).code).toBe(0);
    const instances = () =>
      stateResources(sb, "prod")
        .filter((x) => x.type === "openstack:compute/instance:Instance")
        .map((x) => (x as { id?: string }).id)
        .sort();
    const before = instances();
    expect(before).toHaveLength(10);
    // Until session 4 this test expected six instances rebuilt (their user data carried the key, and OpenStack rebuilds
    // an instance whose user data changes). The key is now a file of every machine's configuration, delivered in place.
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn3wQ2 ops@example.org";
    expect((await runCli(sb, ["config", "set", "--stack", "prod", "sshPublicKey", key])).code).toBe(0);
    const r = await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes", "--json"]);
    expect(r.code).toBe(0);
    const changes = JSON.parse(r.stdout).changes;
    expect(changes.replace ?? 0).toBe(0);
    expect(changes.delete ?? 0).toBe(0);
    expect(changes.update).toBe(10);
    expect(instances()).toEqual(before);
    // Every machine, the private ones through the gateway (backend-1), got one delta: the key's file, no service touched.
    const delivered = readdirSync(join(sb.root, "machines")).flatMap((host) =>
      readFileSync(join(sb.root, "machines", host, "deliveries.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l)),
    );
    const deltas = delivered.filter((d) => d.plan === "delta");
    expect(deltas.map((d) => d.machine).sort()).toEqual(
      [
        "backend-1",
        "backend-2",
        "backend-3",
        "ci-runner-1",
        "database-1",
        "database-standby-1",
        "lb-1",
        "monitoring-1",
        "pgbouncer-1",
        "cache-1",
      ]
        .map((m) => `prod-${m}`)
        .sort(),
    );
    for (const d of deltas) expect(d.summary).toBe("1 file(s) rewritten: /home/debian/.ssh/authorized_keys; no service restarted");
    const again = await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes", "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).changes.update ?? 0).toBe(0);
  });
});

describe("probatio deploy: a release rolled out one backend at a time (real engine, STUB cloud providers, STAND-IN machines)", () => {
  test("status says no release is set; bad input changes nothing; deploy and --rollback update the backends in turn", async () => {
    const sb = makeSandbox();
    await configure(sb, "prod");
    expect((await runCli(sb, ["up", "--phase", "2", "--stack", "prod", "--yes"])).code).toBe(0);
    const status = async () => JSON.parse((await runCli(sb, ["status", "--stack", "prod", "--json"])).stdout);
    expect((await status()).releases).toEqual({ backend: null, api: null });
    const human = await runCli(sb, ["status", "--stack", "prod"]);
    expect(human.stdout + human.stderr).toContain("backend      no release set");
    const config = readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8");
    const bad = await runCli(sb, [
      "deploy",
      "backend",
      "--stack",
      "prod",
      "--yes",
      "--url",
      "https://r.example.com/b.tar.gz",
      "--sha256",
      "abc",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--sha256 must be the archive's sha256");
    expect((await runCli(sb, ["deploy", "backend", "--stack", "prod", "--yes", "--rollback"])).code).toBe(6);
    expect(readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8")).toBe(config);

    // Each STAND-IN machine's log of deliveries, by host.
    const deliveries = () =>
      new Map(
        readdirSync(join(sb.root, "machines")).map((host) => [
          host,
          readFileSync(join(sb.root, "machines", host, "deliveries.jsonl"), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as { machine: string; summary: string }),
        ]),
      );
    const sha = (c: string) => c.repeat(64);
    for (const [args, expected] of [
      [["--url", "https://r.example.com/b-1.tar.gz", "--sha256", sha("a")], sha("a")],
      [["--url", "https://r.example.com/b-2.tar.gz", "--sha256", sha("b")], sha("b")],
      [["--rollback"], sha("a")],
    ] as const) {
      const before = deliveries();
      const r = await runCli(sb, ["deploy", "backend", "--stack", "prod", "--yes", "--json", ...args]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).changes).toMatchObject({ update: 3 });
      const now = [...deliveries()].flatMap(([host, list]) => list.slice(before.get(host)?.length ?? 0));
      // Only the backends, each once: one file (the release) and the application reloaded.
      expect(now.map((d) => d.machine).sort()).toEqual(["prod-backend-1", "prod-backend-2", "prod-backend-3"]);
      for (const d of now) expect(d.summary).toBe("1 file(s) rewritten: /etc/probatio/releases/backend; release backend");
      expect((await status()).releases.backend.sha256).toBe(expected);
    }
  });
});
