import { mergeBundles, ServiceBundle } from "./bundle";

/** Prometheus's node exporter (Debian's package, port 9100): on every machine of a monitored phase. */
export const nodeExporterBundle: ServiceBundle = {
  packages: ["prometheus-node-exporter"],
  files: [],
  commands: [],
  services: ["prometheus-node-exporter"],
};

/** A machine's bundle, with the node exporter when the phase is monitored. */
export function withNodeExporter(bundle: ServiceBundle, monitored: boolean | undefined): ServiceBundle {
  return monitored ? mergeBundles([bundle, nodeExporterBundle]) : bundle;
}
