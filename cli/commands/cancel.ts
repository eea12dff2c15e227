/** `probatio cancel`: removes a stale lock left by a crashed update. */
import { Command } from "commander";
import { translateEngineError } from "../automation/operation";
import { openStack } from "../automation/workspace";
import { confirm, ui } from "../ui";
import { CommonOptions, lazy, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("cancel"))
    .description("remove a stale lock left by a crashed update")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => cancelCommand));
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
