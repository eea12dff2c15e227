/** preview, up, destroy, refresh, status, cancel: the commands that drive the real engine. */
import chalk from "chalk";
import { existsSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { configKeys } from "../../programs/settings";
import { environmentFor, Phase } from "../../programs/roadmaps";
import { openStack, plainOutputs, ProgressPrinter, translateEngineError } from "../automation";
import { confirm, printJson, ui } from "../ui";
import { CommonOptions, parsePhase, runEngine } from "./common";
import type { Stack } from "@pulumi/pulumi/automation";

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

async function setPhaseConfig(stack: Stack, phase: Phase, environment?: string): Promise<void> {
  // The WORM retention the stack already applies is a floor: the program refuses to shorten it.
  const worm = (await stack.outputs()).worm?.value as { retentionYears?: number } | undefined;
  if (worm?.retentionYears) await stack.setConfig("probatio:wormRetentionFloor", { value: String(worm.retentionYears) });
  await stack.setAllConfig({
    "probatio:roadmap": { value: phase.roadmap },
    "probatio:phase": { value: String(phase.phase) },
    ...(environment ? { "probatio:environment": { value: environment } } : {}),
  });
}

export async function upCommand(opts: CommonOptions): Promise<void> {
  const phase = parsePhase(opts);
  const stack = await openStack(opts);
  await checkPhaseChange(stack, phase);
  await checkRequiredConfig(stack, phase, opts.environment);
  await confirm(`Deploy ${phase.roadmap} phase ${phase.phase} (${phase.name}) to stack '${opts.stack}'?`, opts.yes);
  const restore = snapshotStackFile(stack);
  await setPhaseConfig(stack, phase, opts.environment);
  if (!opts.allowDeletions) {
    try {
      await refuseDeletions(stack);
    } catch (err) {
      restore();
      throw err;
    }
  }
  const printer = new ProgressPrinter(!!opts.json);
  if (!opts.json) ui.heading(`Updating stack '${opts.stack}': ${phase.roadmap} phase ${phase.phase}`);
  const t0 = Date.now();
  const result = await runEngine(opts.stack, (signal) => stack.up({ onEvent: printer.onEvent, color: "never", signal }));
  const changes = result.summary.resourceChanges ?? {};
  const outputs = plainOutputs(result.outputs);
  if (opts.json) {
    printJson({
      command: "up",
      stack: opts.stack,
      roadmap: phase.roadmap,
      phase: phase.phase,
      result: result.summary.result,
      changes,
      outputs,
      durationSeconds: (Date.now() - t0) / 1000,
    });
    return;
  }
  ui.ok(
    `stack '${opts.stack}' is at ${phase.roadmap} phase ${phase.phase}: ${describeChanges(changes)} in ${((Date.now() - t0) / 1000).toFixed(1)}s`,
  );
  printOutputs(outputs);
}

/**
 * Runs the engine's preview of the update and refuses (exit 6, nothing changed) when it would delete or replace
 * anything: a new rendered configuration rebuilds machines (an instance's boot data cannot change in place), and
 * that must be a decision, not a surprise. A stack with nothing deployed yet skips the preview.
 */
async function refuseDeletions(stack: Stack): Promise<void> {
  const state = await stack.exportStack();
  if ((state.deployment?.resources ?? []).length <= 1) return;
  const found = new Map<string, { name: string; type: string; op: string; keys: string[] }>();
  await runEngine(stack.name, (signal) =>
    stack.preview({
      color: "never",
      signal,
      onEvent: (e) => {
        const m = e.resourcePreEvent?.metadata;
        if (!m || !["replace", "delete", "delete-replaced"].includes(m.op)) return;
        const prev = found.get(m.urn);
        found.set(m.urn, {
          name: m.urn.split("::").pop() ?? m.urn,
          type: m.type,
          op: prev?.op === "replace" ? "replace" : m.op === "delete-replaced" ? "replace" : m.op,
          keys: m.diffs ?? m.keys ?? prev?.keys ?? [],
        });
      },
    }),
  );
  if (found.size === 0) return;
  const list = [...found.values()].map((r) => `${r.op} ${r.name} (${r.type}${r.keys.length ? `; ${r.keys.join(", ")} changed` : ""})`);
  throw new ProbatioError(
    `up would delete or replace ${found.size} resource(s) of stack '${stack.name}': ${list.join("; ")}. Nothing was changed`,
    "if that is what you want (e.g. machines rebuilt with a new rendered configuration), run again with --allow-deletions; protected data stores are never deleted or replaced either way",
    ExitCode.refused,
  );
}

/** The stack's settings file as it is now (comments, secrets' ciphertext and all), and a function that puts it back. */
function snapshotStackFile(stack: Stack): () => void {
  const short = stack.name.split("/").pop();
  const file =
    ["yaml", "yml", "json"].map((e) => join(stack.workspace.workDir, `Pulumi.${short}.${e}`)).find((f) => existsSync(f)) ??
    join(stack.workspace.workDir, `Pulumi.${short}.yaml`);
  const bytes = existsSync(file) ? readFileSync(file) : undefined;
  return () => (bytes ? writeFileSync(file, bytes) : rmSync(file, { force: true }));
}

export async function previewCommand(opts: CommonOptions): Promise<void> {
  const phase = parsePhase(opts);
  const stack = await openStack(opts);
  await checkPhaseChange(stack, phase);
  await checkRequiredConfig(stack, phase, opts.environment);
  // A preview must not change anything, including the stack's recorded phase: it runs with the phase set and
  // restores the previous config afterwards (the engine validates the stack's config, so it cannot be passed in
  // memory to a stack that has never had a phase).
  const restore = snapshotStackFile(stack);
  await setPhaseConfig(stack, phase, opts.environment);
  const printer = new ProgressPrinter(true);
  try {
    const result = await runEngine(opts.stack, (signal) => stack.preview({ onEvent: printer.onEvent, color: "never", signal }));
    if (opts.json) {
      printJson({ command: "preview", stack: opts.stack, roadmap: phase.roadmap, phase: phase.phase, changes: result.changeSummary });
      return;
    }
    ui.heading(`Preview of ${phase.roadmap} phase ${phase.phase} on stack '${opts.stack}'`);
    ui.info(`  ${describeChanges(result.changeSummary)}`);
  } finally {
    restore();
  }
}

export async function destroyCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts, false);
  // Refuse before the engine starts if anything is protected: a destroy must not stop half-way.
  const state = await stack.exportStack();
  const resources: { urn: string; type: string; protect?: boolean }[] = state.deployment?.resources ?? [];
  const protectedOnes = resources.filter((r) => r.protect);
  if (protectedOnes.length > 0) {
    throw new ProbatioError(
      `refused: stack '${opts.stack}' holds ${protectedOnes.length} protected resource(s) (data stores): ` +
        protectedOnes.map((r) => `${r.urn.split("::").pop()} (${r.type})`).join(", ") +
        ". Nothing was deleted.",
      "probatio never deletes databases, backups, keys or WORM archives. Back the data up, then unprotect each one " +
        `deliberately (\`pulumi state unprotect --stack ${opts.stack} '<urn>'\`) and run destroy again`,
      ExitCode.refused,
    );
  }
  const count = resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")).length;
  await confirm(`Destroy all ${count} resources of stack '${opts.stack}'?`, opts.yes);
  const printer = new ProgressPrinter(!!opts.json);
  const result = await runEngine(opts.stack, (signal) => stack.destroy({ onEvent: printer.onEvent, color: "never", signal }));
  if (opts.json) {
    printJson({ command: "destroy", stack: opts.stack, result: result.summary.result, changes: result.summary.resourceChanges ?? {} });
    return;
  }
  ui.ok(`stack '${opts.stack}' destroyed: ${describeChanges(result.summary.resourceChanges ?? {})}`);
}

export async function refreshCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts, false);
  const printer = new ProgressPrinter(!!opts.json);
  const result = await runEngine(opts.stack, (signal) => stack.refresh({ onEvent: printer.onEvent, color: "never", signal }));
  if (opts.json) {
    printJson({ command: "refresh", stack: opts.stack, result: result.summary.result, changes: result.summary.resourceChanges ?? {} });
    return;
  }
  ui.ok(`stack '${opts.stack}' refreshed: ${describeChanges(result.summary.resourceChanges ?? {})}`);
}

export async function statusCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts, false);
  const [outputs, history, state] = await Promise.all([stack.outputs(), stack.history(1), stack.exportStack()]);
  const plain = plainOutputs(outputs);
  const resources: { type: string }[] = state.deployment?.resources ?? [];
  const last = history[0];
  const status = {
    stack: opts.stack,
    roadmap: plain.roadmap ?? null,
    phase: plain.phase ?? null,
    environment: plain.environment ?? null,
    resources: resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:")).length,
    lastUpdate: last ? { kind: last.kind, result: last.result, startTime: last.startTime, endTime: last.endTime } : null,
    outputs: plain,
  };
  if (opts.json) {
    printJson(status);
    return;
  }
  ui.heading(`Stack '${opts.stack}'`);
  ui.info(`  roadmap      ${status.roadmap ?? chalk.dim("(nothing deployed)")}`);
  ui.info(`  phase        ${status.phase ?? chalk.dim("-")}`);
  ui.info(`  environment  ${status.environment ?? chalk.dim("-")}`);
  ui.info(`  resources    ${status.resources}`);
  if (last) ui.info(`  last update  ${last.kind} ${last.result} at ${last.endTime ?? last.startTime}`);
  printOutputs(plain);
}

export async function cancelCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts, false);
  await confirm(`Remove the lock of stack '${opts.stack}'? Only do this if no update is running.`, opts.yes);
  try {
    await stack.cancel();
  } catch (err) {
    throw translateEngineError(err, opts.stack);
  }
  ui.ok(`stack '${opts.stack}' unlocked`);
}

export function describeChanges(changes: Record<string, number>): string {
  const order = ["create", "update", "replace", "delete", "same"];
  const parts = order.filter((k) => changes[k]).map((k) => `${changes[k]} ${k === "same" ? "unchanged" : k + "d"}`);
  const changed = order.slice(0, 4).some((k) => changes[k]);
  return changed ? parts.join(", ") : `no changes${changes.same ? ` (${changes.same} unchanged)` : ""}`;
}

function printOutputs(outputs: Record<string, unknown>): void {
  if (Object.keys(outputs).length === 0) return;
  ui.info(chalk.bold("Outputs:"));
  for (const [k, v] of Object.entries(outputs)) ui.info(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
}
