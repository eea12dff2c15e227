/**
 * Runs a migration plan against a stack: every completed step is checkpointed in the stack (the program exports
 * the migration state as an output, so it lives in the state backend with the resources), `--resume` continues
 * after a crash, Ctrl-C or a failed step, and `--rollback` undoes what it can, in reverse, up to the cutover.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import chalk from "chalk";
import { mkdirSync, writeFileSync } from "fs";
import { homedir } from "os";
import { join } from "path";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { getPhase } from "../../programs/roadmaps";
import type { MigrationState } from "../../programs/settings";
import { ProgressPrinter } from "../automation";
import { checkRequiredConfig } from "../commands/engine";
import { runEngine } from "../commands/common";
import { databaseUrls } from "../commands/data";
import * as pgMove from "./pgMove";
import { MigrationPlan, MigrationStep } from "./plans";
import * as traffic from "./traffic";

export interface RunContext {
  readonly stack: Stack;
  readonly plan: MigrationPlan;
  readonly json: boolean;
  readonly log: (line: string) => void;
  /** Stages of the read shift (percent), how long each is watched, and its 5xx gate. */
  readonly traffic: { readonly stages: readonly number[]; readonly observeMs: number; readonly maxErrorRate: number };
  /** The operator checked DNS themselves: decommission without resolving the stack's domain. */
  readonly skipDnsCheck?: boolean;
}

/**
 * Where the source's HAProxy runtime APIs and the target's entry point are, from the environment: the runtime APIs
 * listen on each load balancer's loopback (reach them through SSH tunnels), the entry point is the target's load
 * balancer as the source's HAProxy sees it.
 */
export function shiftOptions(ctx: RunContext): traffic.ShiftOptions {
  const lbs = process.env.PROBATIO_SOURCE_LB_ADMIN;
  const target = process.env.PROBATIO_TARGET_ENTRY;
  if (!lbs || !target) {
    throw new ProbatioError(
      "PROBATIO_SOURCE_LB_ADMIN and PROBATIO_TARGET_ENTRY must be set (the source's HAProxy runtime APIs, HOST:PORT comma-separated, and the target's entry point, HOST:PORT)",
      "e.g. ssh -N -L 9991:127.0.0.1:9999 lb-1 & ssh -N -L 9992:127.0.0.1:9999 lb-2 & export PROBATIO_SOURCE_LB_ADMIN=127.0.0.1:9991,127.0.0.1:9992 PROBATIO_TARGET_ENTRY=<target load balancer>:443",
      ExitCode.missingConfig,
    );
  }
  return {
    lbs: lbs.split(",").map((x) => traffic.parseEndpoint(x, "PROBATIO_SOURCE_LB_ADMIN")),
    target: traffic.parseEndpoint(target, "PROBATIO_TARGET_ENTRY"),
    stages: ctx.traffic.stages,
    observeMs: ctx.traffic.observeMs,
    maxErrorRate: ctx.traffic.maxErrorRate,
    log: (l) => ctx.log(`    ${l}`),
  };
}

/** The checkpoint, as the last update exported it (authoritative: it is in the state backend). */
export async function readCheckpoint(stack: Stack): Promise<MigrationState | undefined> {
  const out = await stack.outputs();
  const v = out.migration?.value;
  return v && typeof v === "object" ? (v as MigrationState) : undefined;
}

async function engineUp(ctx: RunContext, what: string): Promise<Record<string, number>> {
  const printer = new ProgressPrinter(ctx.json);
  const r = await runEngine(ctx.stack.name, (signal) =>
    ctx.stack.up({
      onEvent: printer.onEvent,
      color: "never",
      signal,
      message: `probatio migrate ${ctx.plan.from}-to-${ctx.plan.to}: ${what}`,
    }),
  );
  return r.summary.resourceChanges ?? {};
}

async function setMigration(stack: Stack, state: MigrationState | undefined): Promise<void> {
  if (state) await stack.setConfig("probatio:migration", { value: JSON.stringify(state) });
  else await stack.removeConfig("probatio:migration").catch(() => undefined);
}

/** Records a completed step in the stack: config for the program, then an update so the state carries it. */
async function checkpoint(ctx: RunContext, state: MigrationState, step: string, alreadyUp = false): Promise<MigrationState> {
  const next = { ...state, completed: [...state.completed, step] };
  await setMigration(ctx.stack, next);
  if (!alreadyUp) await engineUp(ctx, `checkpoint ${step}`);
  return next;
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
  const resources: any[] = state.deployment?.resources ?? [];
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

function isTargetUrn(urn: string): boolean {
  return urn.includes("probatio:migration:NextPhase");
}

async function runStep(ctx: RunContext, step: MigrationStep, state: MigrationState): Promise<{ state: MigrationState; detail?: unknown }> {
  const { stack, plan } = ctx;
  switch (step.kind) {
    case "preflight": {
      const history = await stack.history(1);
      if (history[0] && history[0].result !== "succeeded") {
        throw new ProbatioError(
          `the last update of stack '${stack.name}' did not succeed (${history[0].result})`,
          `run \`probatio up --phase ${plan.from} --stack ${stack.name}\` until it succeeds, then migrate`,
          ExitCode.refused,
        );
      }
      const exported = await stack.exportStack();
      if ((exported.deployment?.pending_operations ?? []).length > 0) {
        throw new ProbatioError(
          `stack '${stack.name}' has pending operations from an interrupted update`,
          `run \`probatio refresh --stack ${stack.name}\` first`,
          ExitCode.refused,
        );
      }
      await checkRequiredConfig(stack, getPhase(plan.roadmap, plan.to));
      for (const g of getPhase(plan.roadmap, plan.from).gatesToNext) ctx.log(`    gate (operator-confirmed): ${g}`);
      return { state: await checkpoint(ctx, state, step.name) };
    }
    case "backup": {
      const dir = join(process.env.PROBATIO_BACKUP_DIR ?? join(homedir(), ".probatio", "backups"));
      mkdirSync(dir, { recursive: true });
      const file = join(
        dir,
        `${stack.name}-${plan.roadmap}-${plan.from}-to-${plan.to}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
      );
      writeFileSync(file, JSON.stringify(await stack.exportStack(), null, 2), { mode: 0o600 });
      ctx.log(`    state exported to ${file} (restore: pulumi stack import --file ${file})`);
      return { state: await checkpoint(ctx, state, step.name), detail: { file } };
    }
    case "provision": {
      const next: MigrationState = {
        ...state,
        stage: plan.strategy === "in-place" ? "in-place" : "transitional",
        completed: [...state.completed, step.name],
      };
      if (plan.strategy === "in-place") await stack.setConfig("probatio:phase", { value: String(plan.to) });
      await setMigration(stack, next);
      const changes = await engineUp(ctx, "provision the target");
      if (changes.delete)
        throw new ProbatioError(
          "provisioning deleted resources, which it must never do",
          "restore the state backup and report this",
          ExitCode.failure,
        );
      return { state: next, detail: changes };
    }
    case "data": {
      const urls = databaseUrls();
      await pgMove.startReplication(urls);
      let last = 0;
      const p = await pgMove.waitForSync(urls, 1024 * 1024, (x) => {
        if (Date.now() - last > 2000) {
          last = Date.now();
          ctx.log(
            `    tables ${x.tablesReady}/${x.tables}, ~${x.rows} rows, ${(x.bytes / 1048576).toFixed(1)} MB moved, lag ${x.lagBytes === Number.MAX_SAFE_INTEGER ? "?" : (x.lagBytes / 1024).toFixed(0) + " kB"}`,
          );
        }
      });
      return { state: await checkpoint(ctx, state, step.name), detail: p };
    }
    case "verify": {
      if (plan.strategy === "in-place") {
        const out = await stack.outputs();
        if (Number(out.phase?.value) !== plan.to)
          throw new ProbatioError(`the stack reports phase ${out.phase?.value}, not ${plan.to}`, undefined, ExitCode.failure);
        return { state: await checkpoint(ctx, state, step.name), detail: { machines: out.machines?.value } };
      }
      const p = await pgMove.progress(databaseUrls());
      if (p.tables === 0 || p.tablesReady !== p.tables || p.lagBytes > 1024 * 1024) {
        throw new ProbatioError(
          `the target is not caught up (${p.tablesReady}/${p.tables} tables, lag ${p.lagBytes} bytes)`,
          "run with --resume once replication has caught up",
          ExitCode.failure,
        );
      }
      return { state: await checkpoint(ctx, state, step.name), detail: p };
    }
    case "traffic": {
      const stages = await traffic.shiftReads(shiftOptions(ctx));
      return { state: await checkpoint(ctx, state, step.name), detail: { stages } };
    }
    case "cutover": {
      const urls = databaseUrls();
      const shift = plan.traffic === "haproxy-stages" ? shiftOptions(ctx) : undefined;
      // The target must be able to take every request before the writes freeze.
      if (shift) await traffic.ensureAttached(shift);
      const r = await pgMove.cutover(urls, (s) => ctx.log(`    ${s}`));
      if (shift) {
        await traffic.shiftAll(shift);
        ctx.log(`    every request now goes to the target through the source's ${shift.lbs.length} HAProxy`);
      }
      const out = await stack.outputs();
      ctx.log(
        `    writes frozen for ${r.switchedAt - r.frozenAt} ms; ${r.checks.length} tables identical. Point DNS at the target: ${JSON.stringify(out.loadBalancer?.value ?? out.database?.value ?? "")}`,
      );
      return {
        state: await checkpoint(ctx, state, step.name),
        detail: {
          freezeMs: r.switchedAt - r.frozenAt,
          tables: r.checks,
          traffic: shift ? "all requests through the source's HAProxy to the target" : "DNS switch by the operator",
        },
      };
    }
    case "decommission": {
      // DNS must lead to the target before the source's entry points go.
      const cfg = await stack.getAllConfig();
      const domain = cfg["probatio:domain"]?.value;
      if (ctx.skipDnsCheck) ctx.log("    DNS check skipped (--skip-dns-check)");
      else if (!domain) ctx.log("    no `domain` set on the stack: probatio cannot check that DNS points at the target; make sure it does");
      else {
        const out = await stack.outputs();
        const src = out.source?.value as { loadBalancer?: string } | undefined;
        const addresses = await traffic.checkDnsMoved(
          domain,
          src?.loadBalancer ? [src.loadBalancer] : [],
          typeof out.loadBalancer?.value === "string" ? out.loadBalancer.value : undefined,
        );
        ctx.log(`    ${domain} resolves to ${addresses.join(", ")}: the target`);
      }
      // Protected data stores of the source stay in the cloud: dropped from the stack, listed for the operator.
      const kept = await releaseFromState(stack, (r) => !!r.protect && !isTargetUrn(r.urn));
      for (const k of kept)
        ctx.log(`    kept in the cloud (protected, no longer managed): ${k.type} ${k.urn.split("::").pop()} ${k.id ?? ""}`);
      // First the source goes (the target keeps its place), then the target takes the root under its aliases.
      await setMigration(stack, { ...state, stage: "decommissioning" });
      const changes = await engineUp(ctx, "decommission the source");
      const generation = Number(cfg["probatio:generation"]?.value ?? "1") + 1;
      await stack.setAllConfig({ "probatio:phase": { value: String(plan.to) }, "probatio:generation": { value: String(generation) } });
      const next = { ...state, completed: [...state.completed, step.name] };
      await setMigration(stack, undefined);
      const settle = await engineUp(ctx, "the target becomes the stack's phase");
      // The only deletion allowed here is the empty NextPhase wrapper the target leaves.
      if (settle.create || (settle.delete ?? 0) > 1 || settle.replace) {
        throw new ProbatioError(
          `moving the target to the root changed resources (${JSON.stringify(settle)})`,
          "restore the state backup and report this",
          ExitCode.failure,
        );
      }
      return { state: next, detail: { kept, changes } };
    }
  }
}

export async function runMigration(ctx: RunContext, resume?: MigrationState): Promise<unknown[]> {
  const { stack, plan } = ctx;
  // Until the target is provisioned the program builds the source phase only ("in-place" stage); a side-by-side
  // provisioning switches the stack to the transitional stage that holds both.
  let state: MigrationState = resume ?? {
    roadmap: plan.roadmap,
    from: plan.from,
    to: plan.to,
    stage: "in-place",
    completed: [],
    startedAt: new Date().toISOString(),
  };
  const results: unknown[] = [];
  for (const step of plan.steps) {
    if (state.completed.includes(step.name)) {
      ctx.log(`${chalk.dim("✔")} ${step.name} ${chalk.dim("(done earlier)")}`);
      continue;
    }
    ctx.log(`${chalk.bold("▶")} ${step.name}: ${step.description}`);
    const t0 = Date.now();
    const { state: next, detail } = await runStep(ctx, step, state);
    state = next;
    const seconds = (Date.now() - t0) / 1000;
    results.push({ step: step.name, seconds, detail });
    ctx.log(`${chalk.green("✔")} ${step.name} ${chalk.dim(`${seconds.toFixed(1)}s`)}`);
  }
  if (plan.strategy === "in-place") {
    await setMigration(stack, undefined);
    await engineUp(ctx, "finish");
  }
  return results;
}

/** Undoes the completed steps in reverse, up to the cutover. */
export async function rollbackMigration(ctx: RunContext, state: MigrationState): Promise<string[]> {
  const { stack, plan } = ctx;
  if (state.completed.includes("cutover")) {
    throw new ProbatioError(
      "the cutover is done: the target has taken writes since, so probatio cannot undo it automatically",
      "the source is still there, frozen read-only; to go back, replicate the target back to it (`probatio data` with the URLs swapped) and restore the state backup taken at the start",
      ExitCode.refused,
    );
  }
  const undone: string[] = [];
  // Reads may have moved (completely, or up to a failed stage): every request back on the source first.
  if (plan.traffic === "haproxy-stages" && state.completed.includes("verify-data")) {
    await traffic.detachTarget(shiftOptions(ctx).lbs);
    if (state.completed.includes("shift-reads")) undone.push("shift-reads");
  }
  if (state.completed.includes("replicate-data")) {
    await pgMove.rollback(databaseUrls());
    undone.push("replicate-data");
  }
  if (state.completed.includes("provision-target")) {
    if (plan.strategy === "side-by-side") {
      const kept = await releaseFromState(stack, (r) => !!r.protect && isTargetUrn(r.urn));
      for (const k of kept)
        ctx.log(`    kept in the cloud (protected target data store, no longer managed): ${k.type} ${k.urn.split("::").pop()}`);
    }
    await stack.setConfig("probatio:phase", { value: String(plan.from) });
    await setMigration(stack, undefined);
    await engineUp(ctx, "roll back the provisioning");
    undone.push("provision-target");
  } else {
    await setMigration(stack, undefined);
    await engineUp(ctx, "roll back");
  }
  return undone;
}
