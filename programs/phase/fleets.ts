import * as pulumi from "@pulumi/pulumi";
import { bundleToCloudInit, mergeBundles, ServiceBundle } from "../../components/config/bundle";
import { nodeExporterBundle } from "../../components/config/nodeExporter";
import { appServices, pm2Apps, pm2Runtime, pm2Save } from "../../components/config/services";
import { VENDOR_SOURCES } from "../../components/config/vendor";
import { machineName } from "../../components/labels";
import { VpsFleet } from "../../components/vpsFleet";
import { FleetSpec } from "../roadmaps";
import { Declared, PhaseContext } from "./context";
import { machineOptions, NetworkParts } from "./network";

/** Services a component renders itself: the generic fleet adds nothing for them. */
const componentServices = new Set([
  "docker-compose",
  "postgresql",
  "pgbouncer",
  "redis",
  "redis-sentinel",
  "haproxy",
  "keepalived",
  "k3s-server",
  "k3s-agent",
  "prometheus",
  "grafana",
  "alertmanager",
]);

/** Prometheus's node exporter, on every machine of a monitored phase. */
export const nodeExporter: ServiceBundle = {
  packages: ["prometheus-node-exporter"],
  files: [],
  commands: [],
  services: ["prometheus-node-exporter"],
};

export interface DeclaredFleet extends Declared {
  readonly fleet: VpsFleet;
}

/**
 * A fleet of `fleet.role`: the generic services of its role (PM2 backends, CI runner, ...), the node exporter where the
 * phase is monitored, and the bundles other concerns add to these machines (`extra`: a colocated PostgreSQL, Compose).
 */
export function declareFleet(
  ctx: PhaseContext,
  net: NetworkParts,
  fleet: FleetSpec,
  extra: readonly pulumi.Output<ServiceBundle>[],
  protect = false,
): DeclaredFleet {
  const { settings, topology } = ctx;
  const serviceCtx = {
    role: fleet.role,
    stack: settings.stack,
    pm2Instances: topology.pm2?.instances,
    vendors: settings.vendors ?? VENDOR_SOURCES,
  };
  const apps = fleet.services
    .filter((x) => !componentServices.has(x))
    .map((x) => {
      const make = appServices[x] ?? ctx.fail(`no bundle for service '${x}' of role '${fleet.role}'`);
      return make(serviceCtx);
    });
  const underPm2 = fleet.services.some((x) => pm2Apps.has(x));
  const own: ServiceBundle[] = underPm2 ? [pm2Runtime(serviceCtx), ...apps, pm2Save] : apps;
  if (topology.monitoring) own.push(nodeExporterBundle);
  const fixedIps = fleet.variant === "public-cloud" ? ctx.fixedIps(fleet.role, fleet.count) : undefined;
  const vps = new VpsFleet(
    fleet.role,
    {
      ...ctx.common,
      role: fleet.role,
      count: fleet.count,
      ...machineOptions(ctx, net, fleet),
      fixedIps,
      publicNetwork: fleet.variant === "public-cloud" ? true : undefined,
      userData: Array.from({ length: fleet.count }, (_, i) =>
        pulumi
          .all([...extra])
          .apply((bundles) => bundleToCloudInit(machineName(settings.stack, fleet.role, i), mergeBundles([...own, ...bundles]))),
      ),
    },
    { ...ctx.rootOpts, protect },
  );
  return { fleet: vps, machines: { [fleet.role]: vps.names }, scrape: [{ role: fleet.role, addresses: vps.addresses }] };
}
