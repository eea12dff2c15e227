import { existsSync, readdirSync, readFileSync } from "fs";
import { join } from "path";
import { parse } from "yaml";
import { configure, makeSandbox, removeSandboxes, runCli, Sandbox, stateResources } from "./harness";
import { cpuSeries, RecordedPrometheus, startRecordedPrometheus } from "../service/recordedPrometheus";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

/** The recorded hour: 50 % until T0+30 min, 85 % until T0+40, then 15 %. T0 is 90 minutes ago (Prometheus keeps it). */
const T0 = Math.floor(Date.now() / 1000 / 60) * 60 - 90 * 60;
const cpu = (t: number) => (t < T0 + 30 * 60 ? 50 : t < T0 + 40 * 60 ? 85 : 15);
const at = (minutes: number) => new Date((T0 + minutes * 60) * 1000).toISOString();

// The real `probatio` CLI and the real engine against STUB cloud providers and STAND-IN machines (what a delivery would
// write is logged per machine); the CPU comes from a real Prometheus serving the recorded series above.
describe("probatio autoscale: ProbatioVault phase 3's rule applied through the engine, from a real Prometheus", () => {
  let sb: Sandbox;
  let prometheus: RecordedPrometheus;
  const backends = () =>
    stateResources(sb, "prod")
      .filter((r) => r.type === "openstack:compute/instance:Instance")
      .map((r) => (r.outputs as { name: string }).name)
      .filter((n) => n.startsWith("prod-backend-"))
      .sort();
  const config = () => parse(readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8")).config as Record<string, unknown>;
  const autoscale = async (...args: string[]) => {
    const r = await runCli(sb, ["autoscale", "--stack", "prod", "--prometheus", prometheus.url, "--json", ...args]);
    if (r.code !== 0) throw new Error(`autoscale exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  /** What the STAND-IN machines were delivered, by machine: each delivery's summary. */
  const deliveries = (machine: string): string[] =>
    readdirSync(join(sb.root, "machines"))
      .map((host) => join(sb.root, "machines", host, "deliveries.jsonl"))
      .filter((f) => existsSync(f))
      .flatMap((f) =>
        readFileSync(f, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { machine: string; plan: string; summary: string }),
      )
      .filter((d) => d.machine === machine && d.plan === "delta")
      .map((d) => d.summary);

  beforeAll(async () => {
    sb = makeSandbox();
    await configure(sb, "prod");
    for (const [k, v] of [
      ["alertEmail", "oncall@example.com"],
      ["alertSmtpRelay", "smtp.example.com:587"],
    ]) {
      if ((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code !== 0) throw new Error(`config set ${k}`);
    }
    const up = await runCli(sb, ["up", "--phase", "3", "--stack", "prod", "--yes"]);
    if (up.code !== 0) throw new Error(up.stderr);
    prometheus = await startRecordedPrometheus(cpuSeries("backend", ["10.1.0.100", "10.1.0.101", "10.1.0.102"], T0, T0 + 80 * 60, cpu));
  });
  afterAll(async () => prometheus?.stop());

  test("4 minutes above 70 %: stay; at 5 minutes --dry-run says it would add one and changes nothing", async () => {
    expect(backends()).toEqual(["prod-backend-1", "prod-backend-2", "prod-backend-3"]);
    const early = await autoscale("--at", at(34));
    expect(early).toMatchObject({ count: 3, applied: false, decision: { kind: "stay" } });
    const dry = await autoscale("--at", at(36), "--dry-run");
    expect(dry).toMatchObject({ applied: false, decision: { kind: "add", from: 3, to: 4 } });
    expect(config()["probatio:backendCount"]).toBeUndefined();
    expect(backends()).toHaveLength(3);
  });

  test("5 minutes above 70 %: exactly one backend added by a normal up; HAProxy's pool gets it in place, nothing rebuilt", async () => {
    const r = await autoscale("--at", at(36));
    expect(r).toMatchObject({ applied: true, decision: { kind: "add", from: 3, to: 4 }, up: { result: "succeeded" } });
    expect(r.decision.reason).toMatch(/^CPU above 70 % for 5 min/);
    // The new instance and its configuration; the load balancers' and Prometheus's configurations updated in place.
    expect(r.up.changes.create).toBe(2);
    expect(r.up.changes.replace ?? 0).toBe(0);
    expect(r.up.changes.delete ?? 0).toBe(0);
    expect(backends()).toEqual(["prod-backend-1", "prod-backend-2", "prod-backend-3", "prod-backend-4"]);
    expect(config()).toMatchObject({ "probatio:backendCount": "4", "probatio:autoscaleLastAction": at(36) });
    for (const lb of ["prod-lb-1", "prod-lb-2"]) {
      expect(deliveries(lb)).toEqual(["1 file(s) rewritten: /etc/haproxy/haproxy.cfg; reload haproxy"]);
    }
  });

  test("within the cool-down nothing changes; 10 minutes below 30 % removes exactly that backend; at 3 it stays", async () => {
    expect(await autoscale("--at", at(41))).toMatchObject({
      applied: false,
      decision: { kind: "stay", reason: expect.stringMatching(/^cool-down/) },
    });
    const down = await autoscale("--at", at(53));
    expect(down).toMatchObject({ applied: true, decision: { kind: "remove", from: 4, to: 3 } });
    expect(down.up.changes.delete).toBe(2);
    expect(down.up.changes.replace ?? 0).toBe(0);
    expect(backends()).toEqual(["prod-backend-1", "prod-backend-2", "prod-backend-3"]);
    const floor = await autoscale("--at", at(70), "--cooldown", "1");
    expect(floor).toMatchObject({ applied: false, decision: { kind: "stay", count: 3 } });
    expect(floor.decision.reason).toContain("already at the minimum (3)");
    // The next `up` keeps the recorded count: nothing to do.
    const again = JSON.parse((await runCli(sb, ["up", "--phase", "3", "--stack", "prod", "--yes", "--json"])).stdout);
    expect({ create: again.changes.create ?? 0, update: again.changes.update ?? 0, delete: again.changes.delete ?? 0 }).toEqual({
      create: 0,
      update: 0,
      delete: 0,
    });
  });

  test("bad input: an unreachable Prometheus and a bad --at are clear errors, no trace, nothing changed", async () => {
    const before = readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8");
    const down = await runCli(sb, ["autoscale", "--stack", "prod", "--prometheus", "http://127.0.0.1:1", "--once"]);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("cannot query Prometheus at http://127.0.0.1:1");
    expect(down.stderr).not.toMatch(/\s+at \S+ \(/);
    const bad = await runCli(sb, ["autoscale", "--stack", "prod", "--prometheus", prometheus.url, "--at", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--at 'yesterday' is not an ISO 8601 time");
    expect(readFileSync(join(sb.project, "Pulumi.prod.yaml"), "utf8")).toBe(before);
  });
});
