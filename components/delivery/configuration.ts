/**
 * A machine's configuration as probatio delivers it: the cloud-init user data, read back into the files, packages and
 * services it declares, its digest, and the manifest a machine keeps of what was applied to it. Pure: no I/O.
 */
import { createHash } from "crypto";
import { parse } from "yaml";
import { SERVICES_FILE } from "../config/bundle";

/** The engine's type of the MachineConfig resource (a dynamic resource of module "probatio"). */
export const MACHINE_CONFIG_TYPE = "pulumi-nodejs:dynamic/probatio:MachineConfig";

/** Where a machine records what was applied to it (digest and each file's hash): written by every delivery. */
export const MANIFEST_FILE = "/etc/probatio/applied.json";

/** Where cloud-init keeps the user data it ran (Debian 12's cloud-init 22.4). */
export const CLOUD_INIT_USER_DATA = "/var/lib/cloud/instance/user-data.txt";

export interface DeliveredFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
  readonly owner: string;
}

/** What a user data declares, as the delivery applies it. */
export interface MachineConfiguration {
  readonly digest: string;
  readonly hostname?: string;
  readonly files: readonly DeliveredFile[];
  readonly packages: readonly string[];
  /** The systemd units declared for the machine (its /etc/probatio/services). */
  readonly services: readonly string[];
}

/** The record on the machine: what was applied, so that the next delivery changes only what differs. */
export interface Manifest {
  readonly digest: string;
  /** sha256 of each file as delivered (not as it is now: Redis and Sentinel rewrite their own files). */
  readonly files: Readonly<Record<string, string>>;
  readonly packages: readonly string[];
  readonly services: readonly string[];
}

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

/** The digest of a user data: what `status` and `refresh` compare. */
export const configDigest = (userData: string): string => `sha256:${sha256(userData)}`;

/** Whether a user data is one probatio rendered (a VPS's first boot ran the cloud's own, not probatio's). */
export function isProbatioUserData(userData: string): boolean {
  if (!userData.startsWith("#cloud-config\n")) return false;
  try {
    const doc = parse(userData) as { write_files?: { path?: string }[] } | null;
    return (doc?.write_files ?? []).some((f) => f.path === SERVICES_FILE);
  } catch {
    return false;
  }
}

/** Reads a `#cloud-config` user data back into what it declares. Throws on text that is not one. */
export function parseConfiguration(userData: string): MachineConfiguration {
  if (!userData.startsWith("#cloud-config\n")) throw new Error("the user data is not a #cloud-config document");
  const doc = (parse(userData) ?? {}) as {
    hostname?: string;
    packages?: string[];
    write_files?: { path: string; content?: string; permissions?: string; owner?: string }[];
  };
  const files = (doc.write_files ?? []).map((f) => ({
    path: f.path,
    content: f.content ?? "",
    permissions: f.permissions ?? "0644",
    owner: f.owner ?? "root:root",
  }));
  const servicesFile = files.find((f) => f.path === SERVICES_FILE)?.content ?? "";
  return {
    digest: configDigest(userData),
    hostname: doc.hostname,
    files,
    packages: doc.packages ?? [],
    services: servicesFile.split("\n").filter(Boolean),
  };
}

export function manifestOf(c: MachineConfiguration): Manifest {
  return {
    digest: c.digest,
    files: Object.fromEntries(c.files.map((f) => [f.path, sha256(f.content + "\0" + f.permissions + "\0" + f.owner)])),
    packages: [...c.packages],
    services: [...c.services],
  };
}

/** Parses a manifest read from a machine; undefined when absent or unreadable (then the delivery starts over). */
export function parseManifest(text: string | undefined): Manifest | undefined {
  if (!text || !text.trim()) return undefined;
  try {
    const m = JSON.parse(text) as Manifest;
    return typeof m.digest === "string" && m.files && typeof m.files === "object" ? m : undefined;
  } catch {
    return undefined;
  }
}
