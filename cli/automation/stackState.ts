/**
 * What probatio reads from and writes to a stack besides its resources: the recorded phase and checks before the
 * engine runs, the stack's settings file, the migration checkpoint, and releasing resources from the state.
 */
import type { Deployment, Stack } from "@pulumi/pulumi/automation";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { parseDocument } from "yaml";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { environmentFor, Phase } from "../../programs/roadmaps";
import { configKeys, MigrationState } from "../../programs/stackConfig";
import { refuseUnsafeChanges } from "./guard";
import { runEngine } from "./operation";
import { POLICY_PACKS } from "./workspace";

/** What the stack's last successful update recorded: its roadmap and phase (from the outputs). */
export async function recordedPhase(stack: Stack): Promise<{ roadmap: string; phase: number } | undefined> {
  const out = await stack.outputs();
  if (out.phase === undefined || out.roadmap === undefined) return undefined;
  return { roadmap: String(out.roadmap.value), phase: Number(out.phase.value) };
}

/** Refuses to change phase or roadmap with `up`: that is a migration's job. */
export async function checkPhaseChange(stack: Stack, target: Phase): Promise<void> {
  const migration = (await stack.outputs()).migration?.value as { from: number; to: number } | undefined;
  if (migration) {
    throw new ProbatioError(
      `a migration ${migration.from}-to-${migration.to} is in progress on stack '${stack.name}'`,
      `continue it with \`probatio migrate ${migration.from}-to-${migration.to} --stack ${stack.name} --resume\`, or undo it with --rollback`,
      ExitCode.refused,
    );
  }
  const current = await recordedPhase(stack);
  if (!current) return;
  if (current.roadmap !== target.roadmap) {
    throw new ProbatioError(
      `stack '${stack.name}' follows the ${current.roadmap} roadmap, not ${target.roadmap}`,
      `use --roadmap ${current.roadmap}, or a new stack for the ${target.roadmap} roadmap`,
      ExitCode.refused,
    );
  }
  if (current.phase !== target.phase) {
    const hint =
      target.phase === current.phase + 1
        ? `run \`probatio migrate ${current.phase}-to-${target.phase} --stack ${stack.name}${target.roadmap === "probatio" ? "" : " --roadmap " + target.roadmap}\``
        : `phases move one step at a time: the next step is \`probatio migrate ${current.phase}-to-${current.phase + 1} --stack ${stack.name}\``;
    throw new ProbatioError(
      `stack '${stack.name}' is in phase ${current.phase}; moving it to phase ${target.phase} needs a migration, not \`up\``,
      hint,
      ExitCode.refused,
    );
  }
}

/** Checks the stack config before the engine runs, so a missing value never fails half-way through an update. */
export async function checkRequiredConfig(stack: Stack, phase: Phase, environment?: string): Promise<void> {
  const config = await stack.getAllConfig();
  const env = environmentFor(phase, stack.name, environment ?? config["probatio:environment"]?.value);
  const missing = configKeys.filter((k) => {
    if (!k.required && !k.requiredWhen?.(env.topology)) return false;
    const v = config[`probatio:${k.key}`];
    return !v || (!v.secret && /^REPLACE/.test(v.value));
  });
  if (missing.length > 0) {
    throw new ProbatioError(
      `stack '${stack.name}' is missing required configuration: ${missing.map((k) => `${k.key} (${k.description})`).join("; ")}`,
      missing
        .map((k) => `probatio config set --stack ${stack.name}${k.secret ? " --secret" : ""} ${k.key} ${k.example}`)
        .join("\n            "),
      ExitCode.missingConfig,
    );
  }
}

/**
 * Says, before an update, that a phase fenced by role with no `sshAllowList` closes SSH to the internet (the jump host
 * included): the operator's in-place deliveries and tunnels would then not reach the machines.
 */
export async function warnClosedSsh(stack: Stack, phase: Phase, warn: (line: string) => void, environment?: string): Promise<void> {
  const config = await stack.getAllConfig();
  const env = environmentFor(phase, stack.name, environment ?? config["probatio:environment"]?.value);
  const { fencedByRole } = await import("../../programs/phase/flows");
  if ((config["probatio:sshAllowList"]?.value ?? "").trim()) return;
  const fix = `set it to the address you run probatio from: probatio config set --stack ${stack.name} sshAllowList 203.0.113.7/32`;
  if (fencedByRole(env.topology)) {
    warn(
      `sshAllowList is not set: ${phase.roadmap} phase ${phase.phase}'s security groups close SSH to the internet, the jump host's included, so in-place deliveries and your tunnels cannot reach the machines; ${fix}`,
    );
  } else if (env.topology.k8s?.kind === "ovh-mks") {
    warn(
      `sshAllowList is not set: ${phase.roadmap} phase ${phase.phase}'s managed Kubernetes API server answers every address (its IP restrictions are the allow-list and the nodes' egress); ${fix}`,
    );
  } else if (env.topology.fleets.some((f) => f.variant === "ovh-vps")) {
    warn(
      `sshAllowList is not set: the host firewalls of ${phase.roadmap} phase ${phase.phase}'s VPS leave SSH open to every address (keys only; closing it would lock probatio's deliveries out); ${fix}`,
    );
  }
}

export async function setPhaseConfig(stack: Stack, phase: Phase, environment?: string): Promise<void> {
  // The WORM retention the stack already applies is a floor: the program refuses to shorten it.
  const worm = (await stack.outputs()).worm?.value as { retentionYears?: number } | undefined;
  setPlainConfig(stack, {
    ...(worm?.retentionYears ? { "probatio:wormRetentionFloor": String(worm.retentionYears) } : {}),
    "probatio:roadmap": phase.roadmap,
    "probatio:phase": String(phase.phase),
    ...(environment ? { "probatio:environment": environment } : {}),
  });
}

/**
 * Runs the engine's preview of the update and refuses (exit 6, nothing changed) when it would delete or replace
 * anything: a new rendered configuration rebuilds machines (an instance's boot data cannot change in place), and
 * that must be a decision, not a surprise (`allowDeletions`). Protected data stores and machines holding data are
 * refused either way (guard.ts). Every preview runs the policy pack: a mandatory violation refuses the update there.
 */
export async function refuseDeletions(
  stack: Stack,
  expected?: (name: string, type: string) => boolean,
  allowDeletions = false,
  /** The stack's state, when the caller exported it already. */
  exported?: Deployment,
): Promise<void> {
  const state = exported ?? (await stack.exportStack());
  if ((state.deployment?.resources ?? []).length <= 1) {
    // Nothing deployed: nothing to delete, but the engine's update stops at the first resource the policy pack refuses,
    // after creating whatever it reached before (machines ordered, protected buckets). Its preview refuses first.
    await runEngine(stack.name, (signal) => stack.preview({ color: "never", signal, policyPacks: POLICY_PACKS }));
    return;
  }
  await refuseUnsafeChanges(stack, `up of stack '${stack.name}'`, {
    allowed: (c) => allowDeletions || (c.op === "delete" && !!expected?.(c.name, c.type)),
    hint: "if that is what you want (e.g. machines rebuilt with a new rendered configuration), run again with --allow-deletions; protected data stores and machines holding data are never deleted or rebuilt either way",
  });
}

/**
 * Names what an interrupted update (a killed process, a lost connection) left unfinished. The engine drops these
 * operations at the next update and does them again; a create the cloud had already carried out is then a second
 * machine (or bucket) the stack does not know: the operator is told which, to look for it in the cloud's console.
 */
export function warnPendingOperations(exported: Deployment, warn: (line: string) => void): number {
  const pending = (exported.deployment?.pending_operations ?? []) as {
    resource: { urn: string; type: string };
    type: string;
  }[];
  for (const p of pending) {
    const name = p.resource.urn.split("::").pop();
    warn(
      `an interrupted update left ${p.type} ${p.resource.type} ${name} unfinished: the next update does it again` +
        (p.type === "creating"
          ? `; if the cloud's console shows two ${name}, delete the one the stack does not list (probatio status --json)`
          : ""),
    );
  }
  return pending.length;
}

function stackFile(stack: Stack): string {
  const short = stack.name.split("/").pop();
  return (
    ["yaml", "yml", "json"].map((e) => join(stack.workspace.workDir, `Pulumi.${short}.${e}`)).find((f) => existsSync(f)) ??
    join(stack.workspace.workDir, `Pulumi.${short}.yaml`)
  );
}

/** Replaces a file in one step (a new file renamed over it): a process killed half-way leaves the old file whole. */
function replaceFile(file: string, content: string | Buffer): void {
  const tmp = `${file}.probatio-${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The stack's settings file as it is now (comments, secrets' ciphertext and all), and a function that puts it back. */
export function snapshotStackFile(stack: Stack): () => void {
  const file = stackFile(stack);
  const bytes = existsSync(file) ? readFileSync(file) : undefined;
  return () => (bytes ? replaceFile(file, bytes) : rmSync(file, { force: true }));
}

/**
 * Sets (or, for `undefined`, removes) plain settings of the stack, written in one step. Pulumi's `config set`
 * rewrites the file in place: a migration killed in the middle of a checkpoint once left a file cut short, without
 * the stack's phase. Comments and secrets' ciphertext are kept as they are.
 */
export function setPlainConfig(stack: Stack, values: Readonly<Record<string, string | undefined>>): void {
  const file = stackFile(stack);
  const doc = parseDocument(existsSync(file) ? readFileSync(file, "utf8") : "");
  if (doc.errors.length > 0) {
    throw new ProbatioError(`${file} is not valid YAML: ${doc.errors[0].message}`, "put it back from version control", ExitCode.usage);
  }
  if (!doc.contents) doc.contents = doc.createNode({}) as never;
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) doc.deleteIn(["config", key]);
    else doc.setIn(["config", key], value);
  }
  replaceFile(file, doc.toString());
}

/** The checkpoint, as the last update exported it (authoritative: it is in the state backend). */
export async function readCheckpoint(stack: Stack): Promise<MigrationState | undefined> {
  const out = await stack.outputs();
  const v = out.migration?.value;
  return v && typeof v === "object" ? (v as MigrationState) : undefined;
}

/**
 * Writes the checkpoint into the state's stack outputs directly (export, edit the stack resource's `migration`
 * output, import), without an engine update: for a checkpoint the program would build the same resources for
 * (see `sameResources`), so the update would change nothing but that output. The config file holds it already.
 * Returns false (nothing written) when the state has no stack resource to carry it.
 */
export async function writeCheckpointOutput(stack: Stack, state: MigrationState): Promise<boolean> {
  const exported = await stack.exportStack();
  const root = (exported.deployment?.resources ?? []).find((r: { type: string }) => r.type === "pulumi:pulumi:Stack");
  if (!root) return false;
  root.outputs = { ...(root.outputs ?? {}), migration: state };
  await stack.importStack(exported);
  return true;
}

/**
 * Whether the program builds the same resources for both checkpoints: it reads a migration's roadmap, phases, stage
 * and DNS switch; the completed steps and timestamps only travel in the output.
 */
export function sameResources(a: MigrationState | undefined, b: MigrationState): boolean {
  return !!a && a.roadmap === b.roadmap && a.from === b.from && a.to === b.to && a.stage === b.stage && a.dns === b.dns;
}

export async function setMigration(stack: Stack, state: MigrationState | undefined): Promise<void> {
  setPlainConfig(stack, { "probatio:migration": state ? JSON.stringify(state) : undefined });
}

/**
 * Drops the given resources (and their descendants) from the state without deleting them in the cloud, and
 * returns what was kept. Used so that decommissioning or rolling back never deletes a protected data store.
 */
export async function releaseFromState(
  stack: Stack,
  select: (r: { urn: string; type: string; protect?: boolean }) => boolean,
): Promise<{ urn: string; type: string; id?: string }[]> {
  const state = await stack.exportStack();
  const resources: StateResource[] = state.deployment?.resources ?? [];
  const chosen = new Set(resources.filter(select).map((r) => r.urn));
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of resources)
      if (r.parent && chosen.has(r.parent) && !chosen.has(r.urn)) {
        chosen.add(r.urn);
        grew = true;
      }
  }
  if (chosen.size === 0) return [];
  const kept = resources.filter((r) => chosen.has(r.urn)).map((r) => ({ urn: r.urn, type: r.type, id: r.id }));
  const remaining = resources
    .filter((r) => !chosen.has(r.urn))
    .map((r) => ({
      ...r,
      dependencies: (r.dependencies ?? []).filter((u: string) => !chosen.has(u)),
      propertyDependencies: Object.fromEntries(
        Object.entries(r.propertyDependencies ?? {}).map(([k, v]) => [k, (v as string[]).filter((u) => !chosen.has(u))]),
      ),
    }));
  state.deployment.resources = remaining;
  await stack.importStack(state);
  return kept;
}

/** A resource as an exported deployment lists it (the fields probatio reads). */
interface StateResource {
  readonly urn: string;
  readonly type: string;
  readonly id?: string;
  readonly parent?: string;
  readonly protect?: boolean;
  readonly dependencies?: string[];
  readonly propertyDependencies?: Record<string, string[]>;
}
