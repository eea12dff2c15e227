import * as pulumi from "@pulumi/pulumi";
import { ServiceBundle } from "../../components/config/bundle";
import { APT_REPOSITORY_PACKAGES, aptRepositoryCommands, VENDOR_SOURCES } from "../../components/config/vendor";
import { renderAlertmanagerYml, renderAlertRules, renderPrometheusYml } from "../../components/config/monitoring";
import { DEFAULT_SCRAPE_INTERVAL_SECONDS, ports } from "../../lib/defaults";
import { getRoadmap } from "../roadmaps";
import { Declared, nothingDeclared, PhaseContext, ScrapeTarget } from "./context";
import { declareFleet } from "./fleets";
import { NetworkParts } from "./network";

/** The role whose fleet monitoring declares itself. */
export const monitoringClaims = ["monitoring"];

/** The monitoring machine: Prometheus scraping every machine's node exporter, the seed's alerts, Alertmanager, Grafana. */
export function declareMonitoring(ctx: PhaseContext, net: NetworkParts, scrape: readonly ScrapeTarget[]): Declared {
  const fleet = ctx.fleet("monitoring");
  if (!fleet) return nothingDeclared;
  return declareFleet(ctx, net, fleet, [monitoringBundle(ctx, scrape)]);
}

function monitoringBundle(ctx: PhaseContext, scrape: readonly ScrapeTarget[]): pulumi.Output<ServiceBundle> {
  const { topology, settings, phase } = ctx;
  const roadmap = getRoadmap(phase.roadmap);
  const inventory = pulumi.all(scrape.map((x) => pulumi.all([...x.addresses]).apply((a: string[]) => ({ role: x.role, addresses: a }))));
  return inventory.apply((inv) => {
    const files = [
      {
        path: "/etc/prometheus/prometheus.yml",
        content: renderPrometheusYml({
          scrapeIntervalSeconds: DEFAULT_SCRAPE_INTERVAL_SECONDS,
          evaluationIntervalSeconds: DEFAULT_SCRAPE_INTERVAL_SECONDS,
          ruleFiles: ["/etc/prometheus/rules/probatio.yml"],
          alertmanagers: topology.monitoring?.alertmanager ? [`127.0.0.1:${ports.alertmanager}`] : [],
          externalLabels: { stack: settings.stack, roadmap: phase.roadmap, phase: String(phase.phase) },
          targets: [
            { job: "prometheus", targets: [`127.0.0.1:${ports.prometheus}`] },
            ...inv
              .filter((x) => x.addresses.length > 0)
              .map((x) => ({
                job: `node-${x.role}`,
                targets: x.addresses.map((a) => `${a}:${ports.nodeExporter}`),
                labels: { role: x.role },
              })),
          ],
        }),
      },
      {
        path: "/etc/prometheus/rules/probatio.yml",
        content: renderAlertRules(
          { ...roadmap.alerts, availabilityPercent: phase.targets.availability },
          `${phase.roadmap}-${phase.phase}`,
        ),
      },
    ];
    const packages = ["prometheus", "prometheus-node-exporter"];
    const commands = ["systemctl restart prometheus"];
    const services = ["prometheus", "prometheus-node-exporter"];
    if (topology.monitoring?.alertmanager) {
      packages.push("prometheus-alertmanager");
      files.push({
        path: "/etc/prometheus/alertmanager.yml",
        content: renderAlertmanagerYml({
          receivers: [{ name: "oncall-email", kind: "email", target: settings.alertEmail ?? "root@localhost" }],
          smtpSmarthost: "localhost:25",
          smtpFrom: `alertmanager@${settings.stack}`,
        }),
      });
      commands.push("systemctl restart prometheus-alertmanager");
      services.push("prometheus-alertmanager");
    }
    if (topology.monitoring?.grafana) {
      commands.push(
        ...aptRepositoryCommands("grafana", settings.vendors?.grafana ?? VENDOR_SOURCES.grafana, ["grafana"]),
        "systemctl enable --now grafana-server",
      );
      packages.push(...APT_REPOSITORY_PACKAGES);
      services.push("grafana-server");
    }
    return { packages, files, commands, services };
  });
}
