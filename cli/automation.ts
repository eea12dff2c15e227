/**
 * The only code that touches Pulumi's Automation API: workspace and stack, engine events, error translation.
 */
import type { EngineEvent, LocalWorkspace as LocalWorkspaceT, OutputMap, Stack } from "@pulumi/pulumi/automation";
import chalk from "chalk";
import { existsSync, mkdirSync } from "fs";
import { homedir } from "os";
import { join, resolve } from "path";
import { ExitCode, ProbatioError } from "../lib/errors";
import { findPulumiRoot } from "./engineBinary";
import { ui } from "./ui";

export interface StackOptions {
  readonly stack: string;
  /** Backend URL; default $PULUMI_BACKEND_URL, else a local file backend in ~/.probatio/state. */
  readonly backend?: string;
  /** Project directory (holds Pulumi.yaml and Pulumi.<stack>.yaml). */
  readonly dir?: string;
}

export function projectDir(dir?: string): string {
  if (dir) return resolve(dir);
  if (existsSync(join(process.cwd(), "Pulumi.yaml"))) return process.cwd();
  return resolve(__dirname, "..", "..");
}

export function backendUrl(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.PULUMI_BACKEND_URL) return process.env.PULUMI_BACKEND_URL;
  const dir = join(homedir(), ".probatio", "state");
  mkdirSync(dir, { recursive: true });
  return `file://${dir}`;
}

function requirePassphrase(): void {
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    throw new ProbatioError(
      "no secrets passphrase: PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set",
      "export PULUMI_CONFIG_PASSPHRASE='<the passphrase of this stack>' (it encrypts the stack's secrets; keep it in your password manager)",
      ExitCode.missingConfig,
    );
  }
}

/**
 * The program the engine runs: the phase program, reading its settings from stack config; `override` replaces
 * some of them without touching the config (a migration's dry run previews its target this way).
 */
function inlineProgram(override?: Partial<import("../programs/settings").PhaseSettings>): () => Promise<Record<string, unknown>> {
  return async () => {
    const { buildPhase } = await import("../programs/phase");
    const { readSettings } = await import("../programs/settings");
    return buildPhase({ ...readSettings(), ...override }) as unknown as Record<string, unknown>;
  };
}

/** Selects the stack, creating it on first use. */
export async function openStack(
  opts: StackOptions,
  create = true,
  override?: Partial<import("../programs/settings").PhaseSettings>,
): Promise<Stack> {
  requirePassphrase();
  const { LocalWorkspace, PulumiCommand, StackNotFoundError } = await import("@pulumi/pulumi/automation");
  const root = findPulumiRoot();
  const pulumiCommand = await PulumiCommand.get({ root });
  const wsOpts = {
    workDir: projectDir(opts.dir),
    pulumiCommand,
    secretsProvider: "passphrase",
    envVars: {
      PULUMI_BACKEND_URL: backendUrl(opts.backend),
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    },
  };
  const args = { stackName: opts.stack, projectName: "probatio", program: inlineProgram(override) };
  try {
    return create ? await LocalWorkspace.createOrSelectStack(args, wsOpts) : await LocalWorkspace.selectStack(args, wsOpts);
  } catch (err) {
    if (err instanceof StackNotFoundError) {
      throw new ProbatioError(
        `stack '${opts.stack}' does not exist in ${wsOpts.envVars.PULUMI_BACKEND_URL}`,
        "check --stack and --backend, or create it with `probatio up --phase N --stack " + opts.stack + "`",
        ExitCode.usage,
      );
    }
    throw translateEngineError(err, opts.stack);
  }
}

export type Workspace = LocalWorkspaceT;

/** Prints engine events resource by resource; counts what happened. */
export class ProgressPrinter {
  private readonly started = new Map<string, number>();
  readonly errors: string[] = [];
  readonly counts: Record<string, number> = {};

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
