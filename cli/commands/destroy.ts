/** `probatio destroy`: refused before the engine starts while anything is protected, so it never stops half-way. */
import { Command } from "commander";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { ProgressPrinter, runEngine } from "../automation/operation";
import { openStack } from "../automation/workspace";
import { confirm, printJson, ui } from "../ui";
import { CommonOptions, describeChanges, lazy, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("destroy"))
    .description("delete a stack's resources; refuses while any data store is protected")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => destroyCommand));
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
