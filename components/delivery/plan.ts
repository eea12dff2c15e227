/**
 * What a delivery does to a machine, decided from what the machine reports (its manifest, the user data its cloud-init
 * ran) and the configuration it must run. Pure: the scripts that carry a plan out are in script.ts.
 */
import {
  DeliveredFile,
  isProbatioUserData,
  MachineConfiguration,
  Manifest,
  manifestOf,
  parseConfiguration,
  parseManifest,
} from "./configuration";
import { actionKey, OwnerAction, ownerOf } from "./owners";

/** What a machine reports before a delivery. */
export interface MachineReport {
  /** The manifest text, when a delivery ran before. */
  readonly manifest?: string;
  /** The user data the machine's cloud-init ran (its first boot, or a first delivery). */
  readonly cloudInitUserData?: string;
}

export type DeliveryPlan =
  /** The machine runs this configuration already: nothing is touched. */
  | { readonly kind: "unchanged"; readonly digest: string }
  /** cloud-init applied this exact configuration at the machine's creation: only the manifest is written. */
  | { readonly kind: "record"; readonly manifest: Manifest }
  /**
   * The machine never ran a probatio configuration (a classic VPS after its order): cloud-init runs it from a NoCloud
   * seed, as on a first boot, keeping the machine's SSH host keys.
   */
  | { readonly kind: "first"; readonly userData: string; readonly hostname: string; readonly manifest: Manifest }
  /** Only what changed: new packages, changed files, the services they belong to. */
  | {
      readonly kind: "delta";
      readonly files: readonly DeliveredFile[];
      readonly packages: readonly string[];
      /** Units declared now and not before: enabled and started. */
      readonly enable: readonly string[];
      /** What the changed files' services must do (each once). */
      readonly actions: readonly OwnerAction[];
      readonly daemonReload: boolean;
      readonly manifest: Manifest;
    };

/** The plan that brings a machine from what it reports to `userData`. */
export function planDelivery(userData: string, report: MachineReport): DeliveryPlan {
  const desired = parseConfiguration(userData);
  const target = manifestOf(desired);
  const recorded = parseManifest(report.manifest);
  if (recorded?.digest === desired.digest) return { kind: "unchanged", digest: desired.digest };
  // Without a manifest, what runs is the probatio user data cloud-init ran at creation, if it ran one.
  const ranAtCreation =
    !recorded && report.cloudInitUserData && isProbatioUserData(report.cloudInitUserData)
      ? parseConfiguration(report.cloudInitUserData)
      : undefined;
  if (ranAtCreation?.digest === desired.digest) return { kind: "record", manifest: target };
  const baseline = recorded ?? (ranAtCreation ? manifestOf(ranAtCreation) : undefined);
  if (!baseline) return { kind: "first", userData, hostname: desired.hostname ?? "", manifest: target };
  return deltaPlan(desired, baseline, target);
}

function deltaPlan(desired: MachineConfiguration, baseline: Manifest, target: Manifest): DeliveryPlan {
  const files = desired.files.filter((f) => baseline.files[f.path] !== target.files[f.path]);
  const actions = new Map<string, OwnerAction>();
  for (const f of files) {
    const a = ownerOf(f.path);
    if (a.kind !== "none") actions.set(actionKey(a), a);
  }
  const had = new Set(baseline.packages);
  const running = new Set(baseline.services);
  return {
    kind: "delta",
    files,
    packages: desired.packages.filter((p) => !had.has(p)),
    enable: desired.services.filter((s) => !running.has(s)),
    actions: [...actions.values()],
    daemonReload: files.some((f) => f.path.startsWith("/etc/systemd/")),
    manifest: target,
  };
}

/** One line per plan, for the resource's outputs and the operator's log. */
export function describePlan(p: DeliveryPlan): string {
  switch (p.kind) {
    case "unchanged":
      return "unchanged";
    case "record":
      return "recorded (cloud-init applied it at creation)";
    case "first":
      return "first delivery (cloud-init from a NoCloud seed)";
    case "delta": {
      const parts = [
        `${p.files.length} file(s) rewritten${p.files.length ? ": " + p.files.map((f) => f.path).join(", ") : ""}`,
        p.packages.length ? `installed ${p.packages.join(", ")}` : "",
        p.enable.length ? `enabled ${p.enable.join(", ")}` : "",
        p.actions.length ? p.actions.map(actionKey).join(", ") : "no service restarted",
      ];
      return parts.filter(Boolean).join("; ");
    }
    default: {
      const never: never = p;
      return never;
    }
  }
}
