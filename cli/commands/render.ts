import { existsSync, readdirSync } from "fs";
import { resolve } from "path";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { printJson, ui } from "../ui";
import { Command } from "commander";
import { lazy, parsePhase } from "./common";

export function register(program: Command): void {
  program
    .command("render")
    .description("offline: write every rendered file (cloud-init, haproxy, postgresql, ...) in one folder per machine")
    .option("-r, --roadmap <name>", "roadmap: probatio or koprogo", "probatio")
    .requiredOption("-p, --phase <n>", "phase number")
    .requiredOption("-o, --out <dir>", "output directory (must be empty unless --force)")
    .option("-s, --stack <name>", "stack name (default prod)")
    .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
    .option("--force", "write into a non-empty directory")
    .option("--json", "print one JSON object")
    .action(lazy(() => renderCommand));
}

export interface RenderOptions {
  phase?: string;
  roadmap?: string;
  stack?: string;
  environment?: string;
  out: string;
  force?: boolean;
  json?: boolean;
}

/** `probatio render`: every rendered file, one folder per machine, so an operator can read what lands where. */
export async function renderCommand(opts: RenderOptions): Promise<void> {
  const phase = parsePhase(opts);
  const out = resolve(opts.out);
  if (existsSync(out) && readdirSync(out).length > 0 && !opts.force) {
    throw new ProbatioError(`${out} is not empty`, "choose an empty directory, or pass --force to write into it", ExitCode.refused);
  }
  const { renderPhase, writeRendered } = await import("../../offline/render");
  const rendered = await renderPhase({
    roadmap: phase.roadmap,
    phase: phase.phase,
    stack: opts.stack ?? "prod",
    environment: opts.environment,
  });
  const files = writeRendered(rendered, out);
  if (opts.json) {
    printJson({
      roadmap: phase.roadmap,
      phase: phase.phase,
      out,
      machines: rendered.machines.map((m) => ({ machine: m.machine, files: Object.keys(m.files) })),
      written: files.length,
    });
    return;
  }
  for (const m of rendered.machines) ui.info(`  ${m.machine}: ${Object.keys(m.files).length} files`);
  ui.ok(`${files.length} files written to ${out} (secrets are placeholders: render never reads the stack's secrets)`);
}
