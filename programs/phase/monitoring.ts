import * as pulumi from "@pulumi/pulumi";
import { ServiceBundle } from "../../components/config/bundle";
import { APT_REPOSITORY_PACKAGES, aptRepositoryCommands, VENDOR_SOURCES } from "../../components/config/vendor";
import { renderAlertmanagerYml, renderAlertRules, renderPrometheusYml } from "../../components/config/monitoring";
import { DEFAULT_ACME, DEFAULT_SCRAPE_INTERVAL_SECONDS, ports } from "../../lib/defaults";
import { getRoadmap } from "../roadmaps";
import { Declared, nothingDeclared, PhaseContext, ScrapeTarget } from "./context";
import { haproxyServesEntry } from "./entryTls";
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
  const smtpPassword = pulumi.output(settings.alertSmtp?.password ?? "");
  return pulumi.all([inventory, smtpPassword]).apply(([inv, password]) => {
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
          {
            ...roadmap.alerts,
            availabilityPercent: phase.targets.availability,
            // certbot renews 30 days ahead, twice a day: 14 days left means two weeks of failed renewals.
            certificateDays: ctx.settings.acme && haproxyServesEntry(ctx.topology) ? DEFAULT_ACME.alertDays : undefined,
          },
          `${phase.roadmap}-${phase.phase}`,
        ),
      },
    ];
    const packages = ["prometheus", "prometheus-node-exporter"];
    const commands = ["systemctl restart prometheus"];
    const services = ["prometheus", "prometheus-node-exporter"];
    if (topology.monitoring?.alertmanager) {
      // Alert mail leaves through the operator's relay (TLS, a login if it wants one): a cloud machine's own port 25 is
      // filtered or distrusted, and a local MTA would be one more daemon to keep alive for a mail a month.
      const smtp = settings.alertSmtp ?? ctx.fail("Alertmanager needs an SMTP relay: set alertSmtpRelay (host:port)");
      const email = settings.alertEmail ?? ctx.fail("Alertmanager needs an address to send alerts to: set alertEmail");
      packages.push("prometheus-alertmanager");
      files.push({
        path: "/etc/prometheus/alertmanager.yml",
        content: renderAlertmanagerYml({
          receivers: [{ name: "oncall-email", kind: "email", target: email }],
          smtp: {
            smarthost: smtp.relay,
            // The relay's login when it is an address (relays refuse other senders), else the on-call address itself.
            from: smtp.user?.includes("@") ? smtp.user : email,
            user: smtp.user,
            password: smtp.user ? password : undefined,
          },
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
