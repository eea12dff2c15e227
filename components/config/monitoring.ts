import { stringify } from "yaml";
import { cpuPercentByInstance, diskPercentByFilesystem, latencyQuantile, loadPerCpuByInstance, memoryPercentByInstance } from "./promql";

/** Prometheus, its alert rules (from the seeds' thresholds) and Alertmanager. Pure functions. */

export interface ScrapeTarget {
  readonly job: string;
  readonly targets: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PrometheusSettings {
  readonly scrapeIntervalSeconds: number;
  readonly evaluationIntervalSeconds: number;
  readonly targets: readonly ScrapeTarget[];
  readonly ruleFiles: readonly string[];
  readonly alertmanagers: readonly string[];
  readonly externalLabels: Readonly<Record<string, string>>;
}

export function renderPrometheusYml(s: PrometheusSettings): string {
  return stringify({
    global: {
      scrape_interval: `${s.scrapeIntervalSeconds}s`,
      evaluation_interval: `${s.evaluationIntervalSeconds}s`,
      external_labels: { ...s.externalLabels },
    },
    rule_files: [...s.ruleFiles],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [...s.alertmanagers] }] }] },
    scrape_configs: s.targets.map((t) => ({
      job_name: t.job,
      static_configs: [{ targets: [...t.targets], labels: t.labels ? { ...t.labels } : undefined }],
    })),
  });
}

export interface AlertThresholds {
  /** CPU busy percent sustained (ProbatioVault: 80 % "en permanence"). */
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  readonly diskPercent: number;
  /** Load average per vCPU (KoproGo: > 1.5 on 1 vCPU). */
  readonly loadPerCpu?: number;
  /** HTTP latency threshold (ProbatioVault: > 1 s; KoproGo: P99 > 1000 ms), and its quantile. */
  readonly latencySeconds: number;
  readonly latencyQuantile: number;
  /** Availability target (percent) for the SLO burn alert. */
  readonly availabilityPercent: number;
  /** "Sustained" means this long. */
  readonly forMinutes: number;
  /**
   * Days before the origins' certificate expires when the alert fires (HAProxy nodes with ACME export its expiry:
   * `probatio_certificate_not_after_seconds`). Absent: no certificate alert.
   */
  readonly certificateDays?: number;
}

export function renderAlertRules(t: AlertThresholds, phaseLabel: string): string {
  const errorBudget = (100 - t.availabilityPercent) / 100;
  const rules = [
    {
      alert: "InstanceDown",
      expr: "up == 0",
      for: "1m",
      labels: { severity: "critical" },
      annotations: { summary: "{{ $labels.instance }} is down" },
    },
    {
      alert: "HighCpu",
      expr: `${cpuPercentByInstance} > ${t.cpuPercent}`,
      for: `${t.forMinutes}m`,
      labels: { severity: "warning" },
      annotations: { summary: `CPU above ${t.cpuPercent} % for ${t.forMinutes} min on {{ $labels.instance }}` },
    },
    {
      alert: "HighMemory",
      expr: `${memoryPercentByInstance} > ${t.memoryPercent}`,
      for: `${t.forMinutes}m`,
      labels: { severity: "warning" },
      annotations: { summary: `RAM above ${t.memoryPercent} % on {{ $labels.instance }}` },
    },
    {
      alert: "DiskFilling",
      expr: `${diskPercentByFilesystem} > ${t.diskPercent}`,
      for: "10m",
      labels: { severity: "warning" },
      annotations: { summary: `Disk above ${t.diskPercent} % on {{ $labels.instance }}` },
    },
    {
      alert: "SlowRequests",
      expr: `${latencyQuantile(t.latencyQuantile)} > ${t.latencySeconds}`,
      for: "5m",
      labels: { severity: "warning" },
      annotations: { summary: `P${Math.round(t.latencyQuantile * 100)} latency above ${t.latencySeconds * 1000} ms` },
    },
    {
      alert: "ErrorBudgetBurn",
      expr: `sum(rate(http_requests_total{code=~"5.."}[1h])) / sum(rate(http_requests_total[1h])) > ${(14.4 * errorBudget).toPrecision(3)}`,
      for: "5m",
      labels: { severity: "critical" },
      annotations: { summary: `Burning the ${t.availabilityPercent} % availability error budget 14x too fast` },
    },
  ];
  if (t.loadPerCpu !== undefined) {
    rules.push({
      alert: "HighLoad",
      expr: `${loadPerCpuByInstance} > ${t.loadPerCpu}`,
      for: `${t.forMinutes}m`,
      labels: { severity: "warning" },
      annotations: { summary: `Load above ${t.loadPerCpu} per vCPU on {{ $labels.instance }}` },
    });
  }
  if (t.certificateDays !== undefined) {
    rules.push({
      alert: "CertificateExpiring",
      expr: `probatio_certificate_not_after_seconds - time() < ${t.certificateDays} * 86400`,
      for: "1h",
      labels: { severity: "critical" },
      annotations: {
        summary: `The certificate of {{ $labels.domain }} on {{ $labels.instance }} expires in less than ${t.certificateDays} days: its renewal (probatio-certificate.timer) is failing`,
      },
    });
  }
  return stringify({ groups: [{ name: `probatio-${phaseLabel}`, rules }] });
}

export interface AlertmanagerSettings {
  readonly receivers: readonly {
    readonly name: string;
    readonly kind: "email" | "slack" | "pagerduty" | "webhook";
    readonly target: string;
  }[];
  /** The relay email receivers send through (STARTTLS or TLS required). */
  readonly smtp?: { readonly smarthost: string; readonly from: string; readonly user?: string; readonly password?: string };
}

export function renderAlertmanagerYml(s: AlertmanagerSettings): string {
  const receivers = s.receivers.map((r) => {
    switch (r.kind) {
      case "email":
        return { name: r.name, email_configs: [{ to: r.target, send_resolved: true }] };
      case "slack":
        return { name: r.name, slack_configs: [{ api_url: r.target, channel: "#alerts", send_resolved: true }] };
      case "pagerduty":
        return { name: r.name, pagerduty_configs: [{ routing_key: r.target }] };
      default:
        return { name: r.name, webhook_configs: [{ url: r.target }] };
    }
  });
  const critical = s.receivers.filter((r) => r.kind === "pagerduty").map((r) => r.name);
  return stringify({
    global: s.smtp
      ? {
          smtp_smarthost: s.smtp.smarthost,
          smtp_from: s.smtp.from,
          ...(s.smtp.user ? { smtp_auth_username: s.smtp.user, smtp_auth_password: s.smtp.password ?? "" } : {}),
          smtp_require_tls: true,
        }
      : {},
    route: {
      receiver: s.receivers[0].name,
      group_by: ["alertname", "instance"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "4h",
      routes: [
        ...critical.map((name) => ({ receiver: name, matchers: ['severity="critical"'], continue: true })),
        ...s.receivers
          .slice(1)
          .filter((r) => r.kind !== "pagerduty")
          .map((r) => ({ receiver: r.name, continue: true })),
      ],
    },
    receivers,
  });
}
