import { spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { cpuSeries, RecordedPrometheus, Series, startRecordedPrometheus } from "./recordedPrometheus";

jest.setTimeout(120_000);

const cli = join(__dirname, "..", "..", "..", "bin", "probatio");

function probatio(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** 30 recorded hours of ProbatioVault phase 0's four machines: the database at 70 % CPU for 5 h, then 90 %; the rest at 20 %. */
const T0 = Math.floor(Date.now() / 1000 / 60) * 60 - 30 * 3600;
const END = T0 + 29 * 3600 + 40 * 60;
const memory = (instance: string, totalBytes: number, availableBytes: number): Series[] =>
  ["node_memory_MemTotal_bytes", "node_memory_MemAvailable_bytes"].map((name, i) => ({
    name,
    labels: { instance, job: "node-x" },
    points: Array.from({ length: (END - T0) / 60 + 1 }, (_, k) => [T0 + k * 60, i === 0 ? totalBytes : availableBytes] as const),
  }));

describe("probatio advise: the seed's gates against a real Prometheus serving recorded metrics, and the operator's counts", () => {
  let prometheus: RecordedPrometheus;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "probatio-advise-"));
    prometheus = await startRecordedPrometheus([
      ...cpuSeries("database", ["10.9.0.3"], T0, END, (t) => (t < T0 + 5 * 3600 ? 70 : 90)),
      ...cpuSeries("backend", ["10.9.0.1", "10.9.0.2", "10.9.0.4"], T0, END, () => 20),
      ...["10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4"].flatMap((i) => memory(`${i}:9100`, 8e9, 4e9)),
    ]);
  });
  afterAll(async () => {
    await prometheus?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const counts = (value: object) => {
    const file = join(dir, `counts-${Math.random()}.json`);
    writeFileSync(file, JSON.stringify(value));
    return file;
  };
  const advise = async (...args: string[]) => {
    const r = await probatio("advise", "--roadmap", "probatio", "--phase", "0", "--prometheus", prometheus.url, "--json", ...args);
    if (r.code !== 0) throw new Error(`advise exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const byKey = (a: { results: { gate: { says: string; kind: string; key?: string }; status: string; value?: number }[] }) =>
    Object.fromEntries(a.results.map((r) => [r.gate.key ?? r.gate.says, { status: r.status, value: r.value && Math.round(r.value) }]));

  test("a day above 80 % CPU on one machine and 700 users: move, with the migration to run and the gates that fired with their values", async () => {
    const a = await advise("--metrics", counts({ users: 700 }), "--at", new Date(END * 1000).toISOString());
    expect(a).toMatchObject({ verdict: "move", command: "probatio migrate 0-to-1 --stack <stack>" });
    expect(byKey(a)).toEqual({
      users: { status: "fired", value: 700 },
      latency_p95_seconds: { status: "unknown", value: undefined },
      cpu_percent: { status: "fired", value: 90 },
      memory_percent: { status: "clear", value: 50 },
    });
    expect(a.fired.map((r: { gate: { says: string } }) => r.gate.says)).toEqual(["500-1000 users reached", "CPU/RAM > 80 % permanently"]);
  });

  test("the same machine 3 hours earlier (its day not all above 80 %) and 300 users: stay", async () => {
    const a = await advise("--metrics", counts({ users: 300 }), "--at", new Date((T0 + 27 * 3600) * 1000).toISOString());
    expect(a.verdict).toBe("stay");
    expect(a.command).toBeUndefined();
    expect(byKey(a)).toMatchObject({ users: { status: "clear", value: 300 }, cpu_percent: { status: "clear", value: 70 } });
  });

  test("phase 1's gates are questions besides the count; a figure in the file wins over Prometheus; bad files are refused clearly", async () => {
    const r = await probatio("advise", "--roadmap", "probatio", "--phase", "1", "--metrics", counts({ users: 1001 }), "--json");
    const a = JSON.parse(r.stdout);
    expect(a).toMatchObject({ verdict: "move", command: "probatio migrate 1-to-2 --stack <stack>" });
    expect(a.results.filter((x: { status: string }) => x.status === "question").map((x: { question: string }) => x.question)).toEqual([
      "Does a contract now require a 99.9 % SLA?",
      "Do customers demand guaranteed availability?",
    ]);
    const fromFile = await advise("--metrics", counts({ users: 10, cpu_percent: 12 }), "--at", new Date(END * 1000).toISOString());
    expect(byKey(fromFile).cpu_percent).toEqual({ status: "clear", value: 12 });
    const unknownKey = await probatio("advise", "--roadmap", "probatio", "--phase", "0", "--metrics", counts({ visitors: 3 }));
    expect(unknownKey.code).toBe(2);
    expect(unknownKey.stderr).toContain("the metrics file names 'visitors', which no gate of this phase reads");
    expect(unknownKey.stderr).toContain("keys for this phase: users, latency_p95_seconds, cpu_percent, memory_percent");
    const none = await probatio("advise", "--roadmap", "probatio", "--phase", "0");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("give --prometheus URL, --metrics FILE, or both");
  });

  test("KoproGo phase 1: RAM, load, disk, condominiums and P99 gates; the last phase has nothing to move to", async () => {
    const r = await probatio(
      "advise",
      "--roadmap",
      "koprogo",
      "--phase",
      "1",
      "--json",
      "--metrics",
      counts({ condominiums: 1200, disk_percent: 83 }),
    );
    const a = JSON.parse(r.stdout);
    expect(a.results.map((x: { gate: { says: string } }) => x.gate.says)).toEqual([
      "RAM > 85 % constantly",
      "CPU load > 1.5 constantly (1 vCPU)",
      "disk > 80 %",
      "> 1,500 active condominiums",
      "query latency P99 > 1000 ms",
    ]);
    expect(a).toMatchObject({ verdict: "move", command: "probatio migrate 1-to-2 --stack <stack>" });
    expect(a.fired.map((x: { gate: { says: string } }) => x.gate.says)).toEqual(["disk > 80 %"]);
    const last = JSON.parse((await probatio("advise", "--roadmap", "koprogo", "--phase", "4", "--json", "--metrics", counts({}))).stdout);
    expect(last).toMatchObject({ verdict: "last phase", results: [] });
  });
});
