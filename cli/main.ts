/**
 * probatio's CLI: registers the commands, each of which owns its flags and its handler (cli/commands/<name>.ts).
 * Start-up loads only commander, chalk and the roadmap data: a command loads what it needs (programs, the Automation
 * API, provider SDKs) when it runs, so `probatio --help` stays fast.
 */
import { Command, CommanderError } from "commander";
import { ExitCode } from "../lib/errors";
import * as advise from "./commands/advise";
import * as autoscale from "./commands/autoscale";
import * as cancel from "./commands/cancel";
import * as config from "./commands/config";
import * as data from "./commands/data";
import * as deploy from "./commands/deploy";
import * as destroy from "./commands/destroy";
import * as migrate from "./commands/migrate";
import * as plan from "./commands/plan";
import * as preview from "./commands/preview";
import * as prices from "./commands/prices";
import * as estimate from "./commands/estimate";
import * as refresh from "./commands/refresh";
import * as render from "./commands/render";
import * as status from "./commands/status";
import * as up from "./commands/up";
import { reportError } from "./ui";

/** The commands, in the order `probatio --help` lists them. */
const commands: readonly { register(program: Command): void }[] = [
  plan,
  estimate,
  prices,
  render,
  preview,
  up,
  deploy,
  autoscale,
  advise,
  destroy,
  refresh,
  status,
  cancel,
  migrate,
  data,
  config,
];

export function buildProgram(): Command {
  const program = new Command("probatio")
    .description("Build a company's OVHcloud infrastructure phase by phase, and move it between phases without losing data.")
    .version(require("../../package.json").version)
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // Set before the subcommands are added, so that they inherit it: usage errors exit 2, not 1.
    .exitOverride();
  for (const command of commands) command.register(program);
  return program;
}

/**
 * The operator's terminal or pipe may go away while a command runs (a closed `| tee`, a lost session that left the
 * process running): every write then fails (EPIPE). The command goes on to its end without writing (an update
 * stopped halfway keeps its lock and leaves its resources half-made). Unhandled, the error went to the engine
 * runtime's own handler, which keeps every uncaught error: a CLI was found writing errors at 40-70 % CPU with 5.9 GB
 * resident, its update never finished (`tests/engine/errors.test.ts`).
 */
export function outliveClosedOutput(stream: NodeJS.WriteStream): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
    stream.write = (() => true) as typeof stream.write;
  });
}

export async function main(argv: string[]): Promise<number> {
  outliveClosedOutput(process.stdout);
  outliveClosedOutput(process.stderr);
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
