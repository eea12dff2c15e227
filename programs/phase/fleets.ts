import * as pulumi from "@pulumi/pulumi";
import { bundleToCloudInit, mergeBundles, ServiceBundle } from "../../components/config/bundle";
import { nodeExporterBundle } from "../../components/config/nodeExporter";
import { appServices, pm2Apps, pm2Runtime, pm2Save } from "../../components/config/services";
import { VENDOR_SOURCES } from "../../components/config/vendor";
import { machineName } from "../../components/labels";
import { VpsFleet } from "../../components/vpsFleet";
import { FleetSpec } from "../roadmaps";
import { AppEnvironment } from "./appEnvironment";
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
  opts: {
    /** What the application is told about the phase (application fleets). */
    readonly environment?: pulumi.Output<AppEnvironment>;
    /** The fleet holds data (a Compose PostgreSQL): protected like a database. */
    readonly protect?: boolean;
  } = {},
): DeclaredFleet {
  const environment = opts.environment ?? pulumi.output({} as AppEnvironment);
  const { settings, topology } = ctx;
  const own = (env: AppEnvironment): ServiceBundle[] => {
    const serviceCtx = {
      role: fleet.role,
      stack: settings.stack,
      pm2Instances: topology.pm2?.instances,
      vendors: settings.vendors ?? VENDOR_SOURCES,
      environment: env,
      releases: settings.releases,
    };
    const apps = fleet.services
      .filter((x) => !componentServices.has(x))
      .map((x) => {
        const make = appServices[x] ?? ctx.fail(`no bundle for service '${x}' of role '${fleet.role}'`);
        return make(serviceCtx);
      });
    const underPm2 = fleet.services.some((x) => pm2Apps.has(x));
    const bundles = underPm2 ? [pm2Runtime(serviceCtx), ...apps, pm2Save] : apps;
    return topology.monitoring ? [...bundles, nodeExporterBundle] : bundles;
  };
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
          .all([environment, pulumi.all([...extra])])
          .apply(([env, bundles]) =>
            bundleToCloudInit(machineName(settings.stack, fleet.role, i), mergeBundles([...own(env), ...bundles])),
          ),
      ),
    },
    { ...ctx.rootOpts, protect: opts.protect ?? false },
  );
  return { fleet: vps, machines: { [fleet.role]: vps.names }, scrape: [{ role: fleet.role, addresses: vps.addresses }] };
}
