import { CloudInitFile, renderCloudInit } from "./cloudinit";

/** What one service needs on a machine: packages, files, and first-boot commands. */
export interface ServiceBundle {
  readonly packages: readonly string[];
  readonly files: readonly CloudInitFile[];
  readonly commands: readonly string[];
  /** systemd units that must be active and enabled once the machine is up (listed on it in /etc/probatio/services). */
  readonly services?: readonly string[];
}

/** Where a machine lists the systemd units probatio declares for it. */
export const SERVICES_FILE = "/etc/probatio/services";

/** Merges bundles in order; two bundles writing the same path is a bug in probatio, so it throws. */
export function mergeBundles(bundles: readonly ServiceBundle[]): ServiceBundle {
  const seen = new Set<string>();
  const files: CloudInitFile[] = [];
  for (const b of bundles) {
    for (const f of b.files) {
      if (seen.has(f.path)) throw new Error(`two services write ${f.path}`);
      seen.add(f.path);
      files.push(f);
    }
  }
  return {
    packages: [...new Set(bundles.flatMap((b) => b.packages))],
    files,
    commands: bundles.flatMap((b) => b.commands),
    services: [...new Set(bundles.flatMap((b) => b.services ?? []))],
  };
}

export function bundleToCloudInit(hostname: string, bundle: ServiceBundle): string {
  const services = bundle.services ?? [];
  // The machine's own record of what must run on it: the boot tests and `probatio status` read it.
  const files = services.length > 0 ? [...bundle.files, { path: SERVICES_FILE, content: services.join("\n") + "\n" }] : bundle.files;
  return renderCloudInit({ hostname, packages: bundle.packages, files, commands: bundle.commands });
}
