/**
 * The PromQL expressions probatio reads its machines with, defined once: the alert rules (monitoring.ts), the upgrade
 * gates (`probatio advise`) and the autoscaler use the same ones. Each is over the node exporter's metrics (every
 * machine) or the application's HTTP histogram, per machine unless said otherwise.
 */

/** CPU busy, percent, per machine (5-minute rate). */
export const cpuPercentByInstance = `100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))`;

/** CPU busy, percent, averaged over the machines of one role (probatio labels each scrape job with its role). */
export const poolCpuPercent = (role: string) => `100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",role="${role}"}[2m])))`;

/** Memory in use (not available), percent, per machine. */
export const memoryPercentByInstance = "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)";

/** Disk in use, percent, per filesystem (not tmpfs or overlays). */
export const diskPercentByFilesystem =
  '100 * (1 - node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes{fstype!~"tmpfs|overlay"})';

/** Five-minute load per vCPU, per machine. */
export const loadPerCpuByInstance = 'node_load5 / count without (cpu, mode) (node_cpu_seconds_total{mode="idle"})';

/** A latency quantile (seconds) of a request-duration histogram, over every machine that exports it. */
export const latencyQuantile = (q: number, histogram = "http_request_duration_seconds_bucket") =>
  `histogram_quantile(${q}, sum by (le) (rate(${histogram}[5m])))`;
