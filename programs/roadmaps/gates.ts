/**
 * The seeds' upgrade gates as data `probatio advise` evaluates. "Permanently" / "constantly" in the seeds is read as
 * a whole day: a phase change is not decided on an afternoon's peak.
 */
import {
  cpuPercentByInstance,
  diskPercentByFilesystem,
  latencyQuantile,
  loadPerCpuByInstance,
  memoryPercentByInstance,
} from "../../components/config/promql";
import { Gate } from "./types";

/** What the seeds' "en permanence" / "constantly" means here, minutes. */
export const SUSTAINED_MINUTES = 24 * 60;
/** How long a latency or disk signal must hold, minutes (the alert rules' own duration). */
export const HELD_MINUTES = 15;

/** The worst machine's value of a per-machine expression. */
const worst = (perMachine: string) => `max(${perMachine})`;

export const gate = {
  cpu: (above: number, says: string): Gate => ({
    kind: "metric",
    says,
    key: "cpu_percent",
    query: worst(cpuPercentByInstance),
    above,
    forMinutes: SUSTAINED_MINUTES,
    unit: "%",
  }),
  memory: (above: number, says: string): Gate => ({
    kind: "metric",
    says,
    key: "memory_percent",
    query: worst(memoryPercentByInstance),
    above,
    forMinutes: SUSTAINED_MINUTES,
    unit: "%",
  }),
  disk: (above: number, says: string): Gate => ({
    kind: "metric",
    says,
    key: "disk_percent",
    query: worst(diskPercentByFilesystem),
    above,
    forMinutes: HELD_MINUTES,
    unit: "%",
  }),
  loadPerCpu: (above: number, says: string): Gate => ({
    kind: "metric",
    says,
    key: "load_per_cpu",
    query: worst(loadPerCpuByInstance),
    above,
    forMinutes: SUSTAINED_MINUTES,
    unit: "per vCPU",
  }),
  latency: (quantile: number, aboveSeconds: number, says: string, histogram?: string): Gate => ({
    kind: "metric",
    says,
    key: `latency_p${Math.round(quantile * 100)}_seconds`,
    query: latencyQuantile(quantile, histogram),
    above: aboveSeconds,
    forMinutes: HELD_MINUTES,
    unit: "s",
  }),
  count: (key: "users" | "condominiums", above: number, says: string): Gate => ({ kind: "count", says, key, above }),
  judged: (says: string, question: string): Gate => ({ kind: "judged", says, question }),
};
