import { Command } from "commander";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { getPhase, getRoadmap, Phase, RoadmapId } from "../../programs/roadmaps";

export interface CommonOptions {
  stack: string;
  roadmap?: string;
  phase?: string;
  backend?: string;
  dir?: string;
  json?: boolean;
  yes?: boolean;
  environment?: string;
  /** up: go ahead even when the update deletes or replaces resources. */
  allowDeletions?: boolean;
}

export function withStackOptions(cmd: Command, stackRequired = true): Command {
  return cmd
    .option("--backend <url>", "state backend URL (default $PULUMI_BACKEND_URL, else file://~/.probatio/state)")
    .option(
      "--dir <path>",
      "project directory holding Pulumi.yaml and Pulumi.<stack>.yaml (default: current directory if it has Pulumi.yaml, else probatio's own)",
    )
    [stackRequired ? "requiredOption" : "option"]("-s, --stack <name>", "stack name (e.g. dev, prod)");
}

/** Parses --roadmap and --phase into a phase of the roadmap data; unknown values are usage errors. */
export function parsePhase(opts: { roadmap?: string; phase?: string }): Phase {
  const roadmap = opts.roadmap ?? "probatio";
  getRoadmap(roadmap);
  if (opts.phase === undefined) throw new ProbatioError("--phase is required", "e.g. --phase 0", ExitCode.usage);
  if (!/^\d+$/.test(opts.phase)) throw new ProbatioError(`--phase must be a number (got '${opts.phase}')`, undefined, ExitCode.usage);
  return getPhase(roadmap as RoadmapId, Number(opts.phase));
}

/**
 * Runs `fn` with an AbortSignal that fires on Ctrl-C / SIGINT / SIGTERM. When stdin is a terminal, the engine
 * (in our process group) receives Ctrl-C itself and starts a clean cancel, so we do not send it a second one
 * (which would make it stop at once). A second Ctrl-C leaves at once.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal, wasInterrupted: () => boolean) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      process.stderr.write("\nsecond interrupt: leaving now; run the same command again to recover\n");
      process.exit(ExitCode.interrupted);
    }
    interrupted = true;
    process.stderr.write(`\n${sig} received: cancelling cleanly (in-flight operations finish first; interrupt again to leave at once)\n`);
    if (!(sig === "SIGINT" && process.stdin.isTTY)) controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await fn(controller.signal, () => interrupted);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** One engine operation: Ctrl-C cancels it cleanly, and a failure becomes a message that says what to do. */
export async function runEngine<T>(stackName: string, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { translateEngineError } = await import("../automation");
  return withInterrupt(async (signal, interrupted) => {
    try {
      return await op(signal);
    } catch (err) {
      throw translateEngineError(err, stackName, interrupted());
    }
  });
}
