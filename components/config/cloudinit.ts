import { stringify } from "yaml";

/** A file cloud-init writes on first boot. */
export interface CloudInitFile {
  readonly path: string;
  readonly content: string;
  /** Octal permissions, e.g. "0640". Default "0644". */
  readonly permissions?: string;
  readonly owner?: string;
}

export interface CloudInitSettings {
  readonly hostname: string;
  readonly packages: readonly string[];
  readonly files: readonly CloudInitFile[];
  /** Commands run once, in order, after packages and files. */
  readonly commands: readonly string[];
  readonly sshAuthorizedKeys?: readonly string[];
}

/** Renders `#cloud-config` user data. Pure: same settings, same text. */
export function renderCloudInit(s: CloudInitSettings): string {
  // Empty lists are left out: cloud-init's schema refuses an empty write_files.
  const doc: Record<string, unknown> = { hostname: s.hostname, package_update: true, package_upgrade: false };
  if (s.packages.length > 0) doc.packages = [...new Set(s.packages)].sort();
  if (s.files.length > 0) {
    doc.write_files = s.files.map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions ?? "0644",
      owner: f.owner ?? "root:root",
      // Written in the final stage, after the packages are installed: a file may then belong to a package's user
      // (postgres, redis), and replaces the package's default instead of being in place before it (which makes
      // dpkg keep a conffile or pg_createcluster refuse an existing pg_hba.conf).
      defer: true,
    }));
  }
  // The commands run as one shell script: stop at the first that fails, so that cloud-init reports it (a script
  // goes on after a failure and reports only its last command's status).
  if (s.commands.length > 0) doc.runcmd = ["set -eu", ...s.commands];
  if (s.sshAuthorizedKeys && s.sshAuthorizedKeys.length > 0) {
    doc.ssh_authorized_keys = [...s.sshAuthorizedKeys];
  }
  return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}
