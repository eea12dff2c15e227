/**
 * Running an engine operation: progress from engine events, Ctrl-C as a clean cancel, and engine failures
 * translated into messages that say what happened and what to do.
 */
import type { EngineEvent, OutputMap } from "@pulumi/pulumi/automation";
import chalk from "chalk";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { ui } from "../ui";

/** Prints engine events resource by resource; counts what happened. */
export class ProgressPrinter {
  private readonly started = new Map<string, number>();
  readonly errors: string[] = [];
  readonly counts: Record<string, number> = {};
  /** What probatio's policy pack reported (as `probatio plan` lists its own). */
  readonly policy: { policy: string; resource: string; level: string; message: string }[] = [];

  constructor(private readonly quiet: boolean) {}

  readonly onEvent = (e: EngineEvent): void => {
    if (e.resourcePreEvent) {
      this.started.set(e.resourcePreEvent.metadata.urn, Date.now());
    } else if (e.resOutputsEvent) {
      const m = e.resOutputsEvent.metadata;
      if (m.type === "pulumi:pulumi:Stack") return;
      this.counts[m.op] = (this.counts[m.op] ?? 0) + 1;
      if (this.quiet || m.op === "same") return;
      const t0 = this.started.get(m.urn);
      const secs = t0 ? ` ${((Date.now() - t0) / 1000).toFixed(1)}s` : "";
      const name = m.urn.split("::").pop();
      process.stderr.write(`  ${symbol(m.op)} ${m.op.padEnd(8)} ${chalk.dim(m.type)} ${name}${chalk.dim(secs)}\n`);
    } else if (e.resOpFailedEvent) {
      const m = e.resOpFailedEvent.metadata;
      if (!this.quiet)
        process.stderr.write(`  ${chalk.red("✖")} ${m.op.padEnd(8)} ${chalk.dim(m.type)} ${m.urn.split("::").pop()} failed\n`);
    } else if (e.policyEvent) {
      // probatio's policy pack, run by the engine: advisories are said, a mandatory violation refuses the operation.
      const p = e.policyEvent;
      const message = p.message.trim().split("\n").pop() ?? p.message;
      const line = `policy ${p.policyName} (${p.enforcementLevel}): ${message}`;
      this.policy.push({ policy: p.policyName, resource: p.resourceUrn ?? "", level: p.enforcementLevel, message });
      if (p.enforcementLevel === "mandatory") this.errors.push(line);
      if (!this.quiet) (p.enforcementLevel === "mandatory" ? ui.info : ui.warn)(p.enforcementLevel === "mandatory" ? `✗ ${line}` : line);
    } else if (e.diagnosticEvent) {
      const d = e.diagnosticEvent;
      if (d.severity === "error") this.errors.push(d.message.trim());
      else if (d.severity === "warning" && !this.quiet) ui.warn(d.message.trim());
    }
  };
}

function symbol(op: string): string {
  switch (op) {
    case "create":
      return chalk.green("+");
    case "update":
      return chalk.yellow("~");
    case "delete":
      return chalk.red("-");
    case "replace":
    case "create-replacement":
    case "delete-replaced":
      return chalk.magenta("±");
    default:
      return " ";
  }
}

/** Turns engine failures into messages that say what happened and what to do. */
export function translateEngineError(err: unknown, stack: string, aborted = false): ProbatioError {
  if (err instanceof ProbatioError) return err;
  const text = err instanceof Error ? err.message : String(err);
  if (aborted) {
    return new ProbatioError(
      "interrupted: the engine cancelled the operation cleanly; what completed is recorded in the state",
      `run the same command again to finish (stack '${stack}')`,
      ExitCode.interrupted,
    );
  }
  if (
    /currently locked|ConcurrentUpdate|conflict: Another update is currently in progress/i.test(text) ||
    err?.constructor?.name === "ConcurrentUpdateError"
  ) {
    return new ProbatioError(
      `stack '${stack}' is locked by another update in progress`,
      `wait for it to finish. If no probatio or pulumi process is running on this stack any more (it crashed), remove the stale lock with \`probatio cancel --stack ${stack}\` and run the command again`,
      ExitCode.locked,
    );
  }
  const violations = [...text.matchAll(/- \[mandatory\]\s+(\S+)\s+\(([^)]*)\)\n[^\n]*\n\s*([^\n]+)/g)];
  if (violations.length > 0) {
    const unique = [...new Set(violations.map((m) => `${m[1]}: ${m[3].trim()}`))];
    return new ProbatioError(
      `refused by probatio's policy pack (${unique.length} mandatory violation${unique.length === 1 ? "" : "s"}):\n  ${unique.join("\n  ")}`,
      "the resources named were neither created nor changed; each message says the fix (the policies: policy/rules.ts)",
      ExitCode.refused,
    );
  }
  const protectedMatch = text.match(/resource "?([^"\s]+)"? cannot be deleted\s+because it is protected/);
  if (protectedMatch || /because it is protected/.test(text)) {
    return new ProbatioError(
      `refused: ${protectedMatch ? protectedMatch[1] : "a resource"} is protected (a data store) and was not deleted`,
      "probatio never deletes databases, backups, keys or WORM archives on its own; back the data up, then unprotect it deliberately with `pulumi state unprotect`",
      ExitCode.refused,
    );
  }
  if (/incorrect passphrase|passphrase must be set|failed to decrypt/i.test(text)) {
    return new ProbatioError(
      "the secrets passphrase does not open this stack",
      "set PULUMI_CONFIG_PASSPHRASE to the passphrase the stack was created with",
      ExitCode.missingConfig,
    );
  }
  const missing = text.match(/Missing required configuration variable '([^']+)'/);
  if (missing) {
    return new ProbatioError(
      `missing required configuration '${missing[1]}'`,
      `probatio config set --stack ${stack} ${missing[1].replace(/^probatio:/, "")} <value>`,
      ExitCode.missingConfig,
    );
  }
  const diag = text
    .match(/error: ([^\n]+)/g)
    ?.map((l) => l.replace(/^error: /, ""))
    .filter((l) => !/update failed|preview failed/.test(l));
  return new ProbatioError(
    `the engine failed on stack '${stack}': ${diag && diag.length > 0 ? diag.slice(0, 5).join("; ") : text.split("\n").slice(-5).join(" ").trim()}`,
    "fix the cause and run the command again; what completed is recorded in the state",
    ExitCode.failure,
  );
}

/** Plain stack outputs with secrets masked. */
export function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) out[k] = v.secret ? "[secret]" : v.value;
  return out;
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
  return withInterrupt(async (signal, interrupted) => {
    try {
      return await op(signal);
    } catch (err) {
      throw translateEngineError(err, stackName, interrupted());
    }
  });
}
