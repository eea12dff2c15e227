import { CloudInitFile, renderCloudInit } from "./cloudinit";

/** What one service needs on a machine: packages, files, and first-boot commands. */
export interface ServiceBundle {
  readonly packages: readonly string[];
  readonly files: readonly CloudInitFile[];
  readonly commands: readonly string[];
}

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
  };
}

export function bundleToCloudInit(hostname: string, bundle: ServiceBundle, sshAuthorizedKeys?: readonly string[]): string {
  return renderCloudInit({ hostname, packages: bundle.packages, files: bundle.files, commands: bundle.commands, sshAuthorizedKeys });
}
