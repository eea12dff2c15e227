/**
 * A real Prometheus (Debian's) serving recorded series: samples written as OpenMetrics, turned into TSDB blocks by
 * `promtool tsdb create-blocks-from openmetrics`, then served by `prometheus` on a free loopback port (no scraping).
 * The autoscaler and `advise` query it as they would the monitoring machine's.
 */
import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { exec, freePort, stopProcess, waitUntil } from "./daemons";

export interface RecordedPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

/** One series: its name, labels and a value at each timestamp (epoch seconds). */
export interface Series {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

function openMetrics(series: readonly Series[]): string {
  const lines: string[] = [];
  for (const s of series) {
    const labels = Object.entries(s.labels)
      .map(([k, v]) => `${k}="${v}"`)
      .join(",");
    for (const [t, v] of s.points) lines.push(`${s.name}{${labels}} ${v} ${t}`);
  }
  return lines.join("\n") + "\n# EOF\n";
}

export async function startRecordedPrometheus(series: readonly Series[]): Promise<RecordedPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), "probatio-prometheus-"));
  writeFileSync(join(dir, "recorded.om"), openMetrics(series));
  await exec("promtool", ["tsdb", "create-blocks-from", "openmetrics", join(dir, "recorded.om"), join(dir, "data")], {
    maxBuffer: 64 * 1024 * 1024,
  });
  writeFileSync(join(dir, "prometheus.yml"), "global:\n  scrape_interval: 15s\n");
  const port = await freePort();
  const proc: ChildProcess = spawn(
    "prometheus",
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--storage.tsdb.retention.time=3650d",
    ],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopProcess(proc);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntil(async () => (await fetch(`${url}/-/ready`).catch(() => undefined))?.status === 200, 30_000, "Prometheus ready", 200);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

/**
 * The node exporter's idle-time counters of machines whose CPU follows `utilisation(t)` (percent), one CPU each,
 * sampled every 15 s over [from, to], labelled as probatio's Prometheus labels a role's machines.
 */
export function cpuSeries(
  role: string,
  addresses: readonly string[],
  from: number,
  to: number,
  utilisation: (t: number) => number,
): Series[] {
  return addresses.map((a) => {
    const points: [number, number][] = [];
    let idle = 1_000_000;
    for (let t = from; t <= to; t += 15) {
      points.push([t, Math.round(idle * 1000) / 1000]);
      idle += 15 * (1 - utilisation(t) / 100);
    }
    return {
      name: "node_cpu_seconds_total",
      labels: { cpu: "0", mode: "idle", instance: `${a}:9100`, job: `node-${role}`, role },
      points,
    };
  });
}
