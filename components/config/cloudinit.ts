import { parse, stringify } from "yaml";

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
}

/** The default user of OVH's Debian images, whom the operator's key lets in (root through sudo). */
export const DEFAULT_SSH_USER = "debian";
export const AUTHORIZED_KEYS_FILE = `/home/${DEFAULT_SSH_USER}/.ssh/authorized_keys`;

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
  return "#cloud-config\n" + stringify(doc, { lineWidth: 0 });
}

/**
 * Adds the operator's SSH key to a user data, as a file of the configuration (not cloud-init's once-only
 * `ssh_authorized_keys`): a new key is then delivered in place like any other change, with no machine rebuilt.
 */
export function withAuthorizedKey(userData: string, key: string): string {
  const doc = parse(userData.replace(/^#cloud-config\n/, "")) as Record<string, unknown>;
  const files = ((doc.write_files as { path: string }[] | undefined) ?? []).filter((f) => f.path !== AUTHORIZED_KEYS_FILE);
  files.push({
    path: AUTHORIZED_KEYS_FILE,
    content: key.trim() + "\n",
    permissions: "0600",
    owner: `${DEFAULT_SSH_USER}:${DEFAULT_SSH_USER}`,
    defer: true,
  } as { path: string });
  return "#cloud-config\n" + stringify({ ...doc, write_files: files }, { lineWidth: 0 });
}
