/**
 * probatio's CLI. Start-up loads only commander and chalk: every command loads what it needs (programs, the
 * Automation API, provider SDKs) when it runs, so `probatio --help` stays fast.
 */
import { Command, CommanderError } from "commander";
import { ExitCode } from "../lib/errors";
import { reportError } from "./ui";

type Action = (...args: any[]) => Promise<void>;

function lazy(load: () => Action): Action {
  return async (...args: any[]) => load()(...args);
}

export function buildProgram(): Command {
  const program = new Command("probatio")
    .description("Build a company's OVHcloud infrastructure phase by phase, and move it between phases without losing data.")
    .version(require("../../package.json").version)
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // Set before the subcommands are added, so that they inherit it: usage errors exit 2, not 1.
    .exitOverride();

  const stackOpts = (cmd: Command, stackRequired = true) => {
    const { withStackOptions } = require("./commands/common") as typeof import("./commands/common");
    return withStackOptions(cmd, stackRequired);
  };
  const roadmapOpt = (cmd: Command) => cmd.option("-r, --roadmap <name>", "roadmap: probatio or koprogo", "probatio");

  roadmapOpt(program.command("plan"))
    .description("offline: what a phase declares (resources, protection) and what it costs; no engine, no credentials")
    .requiredOption("-p, --phase <n>", "phase number")
    .option("-s, --stack <name>", "stack name (default prod)")
    .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
    .option("--diff <n>", "show what moving from phase <n> to --phase adds, changes and removes")
    .option("--json", "print one JSON object")
    .action(lazy(() => require("./commands/plan").planCommand));

  roadmapOpt(program.command("render"))
    .description("offline: write every rendered file (cloud-init, haproxy, postgresql, ...) in one folder per machine")
    .requiredOption("-p, --phase <n>", "phase number")
    .requiredOption("-o, --out <dir>", "output directory (must be empty unless --force)")
    .option("-s, --stack <name>", "stack name (default prod)")
    .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
    .option("--force", "write into a non-empty directory")
    .option("--json", "print one JSON object")
    .action(lazy(() => require("./commands/render").renderCommand));

  for (const [name, description, fn] of [
    ["preview", "show what `up` would change, changing nothing", "previewCommand"],
    ["up", "deploy a phase to a stack (asks for confirmation)", "upCommand"],
  ] as const) {
    const cmd = roadmapOpt(stackOpts(program.command(name)))
      .description(description)
      .requiredOption("-p, --phase <n>", "phase number")
      .option("-e, --environment <name>", "environment of the phase (dev, test, staging, prod)")
      .option("-y, --yes", "do not ask for confirmation")
      .option("--json", "print one JSON object");
    if (name === "up") cmd.option("--allow-deletions", "go ahead when the update would delete or replace resources (refused otherwise)");
    cmd.action(lazy(() => require("./commands/engine")[fn]));
  }
  for (const [name, description, fn] of [
    ["destroy", "delete a stack's resources; refuses while any data store is protected", "destroyCommand"],
    ["refresh", "read the real state of the stack's resources back into the state", "refreshCommand"],
    ["status", "the stack's phase, resources, last update and outputs", "statusCommand"],
    ["cancel", "remove a stale lock left by a crashed update", "cancelCommand"],
  ] as const) {
    stackOpts(program.command(name))
      .description(description)
      .option("-y, --yes", "do not ask for confirmation")
      .option("--json", "print one JSON object")
      .action(lazy(() => require("./commands/engine")[fn]));
  }

  roadmapOpt(stackOpts(program.command("migrate")))
    .description(
      "move a stack to the next phase: preflight, state backup, provision, data, verify, read shift (HAProxy sources), cutover, decommission",
    )
    .argument("<from-to-to>", "e.g. 0-to-1")
    .option("--dry-run", "print the plan and what each step changes; change nothing")
    .option("--resume", "continue a migration after a crash, Ctrl-C or a failed step")
    .option("--rollback", "undo the completed steps in reverse, up to the cutover")
    .option("--stages <percents>", "shift-reads: shares of the reads sent to the target, ascending, ending at 100", "5,25,50,100")
    .option("--observe <seconds>", "shift-reads: how long each stage is watched before the next", "120")
    .option("--max-error-rate <fraction>", "shift-reads: a stage fails above this share of 5xx responses from the target", "0.01")
    .option("--skip-dns-check", "decommission even if the stack's domain does not resolve to the target yet")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => require("./commands/migrate").migrateCommand));

  program
    .command("data")
    .description(
      "the data step of a migration on its own: replicate | status | verify | cutover | rollback (URLs in PROBATIO_SOURCE_DB, PROBATIO_TARGET_DB)",
    )
    .argument("<action>", "replicate, status, verify, cutover or rollback")
    .option("--max-lag <bytes>", "replicate: consider the target caught up under this lag", "1048576")
    .option("--no-wait", "replicate: start and return without waiting")
    .option("--json", "print one JSON object")
    .action(lazy(() => require("./commands/data").dataCommand));

  const config = program.command("config").description("stack settings (cloud project, secrets, SSH allow-list)");
  stackOpts(config.command("set"))
    .description("set a stack setting")
    .argument("<key>", "setting name (see `probatio config list`)")
    .argument("<value>", "value")
    .option("--secret", "store encrypted (required for secrets)")
    .action(lazy(() => require("./commands/config").configSetCommand));
  stackOpts(config.command("list"))
    .description("list the stack's settings, secrets masked")
    .option("--json", "print one JSON object")
    .action(lazy(() => require("./commands/config").configListCommand));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") return 0;
      return ExitCode.usage;
    }
    return reportError(err);
  }
}
