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
    }));
  }
  if (s.commands.length > 0) doc.runcmd = [...s.commands];
  if (s.sshAuthorizedKeys && s.sshAuthorizedKeys.length > 0) {
    doc.ssh_authorized_keys = [...s.sshAuthorizedKeys];
  }
  return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}
