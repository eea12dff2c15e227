/**
 * The Automation API's workspace: where the project and the state are, the passphrase, and the inline program the
 * engine runs. With operation.ts and stackState.ts, the only code that imports @pulumi/pulumi/automation.
 */
import type { Stack } from "@pulumi/pulumi/automation";
import { existsSync, mkdirSync } from "fs";
import { homedir } from "os";
import { delimiter, join, resolve } from "path";
import { ExitCode, ProbatioError } from "../../lib/errors";
import type { PhaseSettings } from "../../programs/settings";
import { findPulumiRoot } from "../engineBinary";
import { translateEngineError } from "./operation";

export type { Stack };

/** probatio's engine plugins: Pulumi's Node.js dynamic-provider host. */
const PLUGINS_DIR = resolve(__dirname, "..", "..", "..", "bin", "plugins");

/**
 * probatio's policy pack (policy/pack), which every `preview` and `up` the CLI makes hands the engine: an executable
 * analyzer plugin, so that an engine without the Node.js language host runs it (see the script).
 */
export const POLICY_PACKS = [join(PLUGINS_DIR, "probatio-policy-analyzer")];

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
  return resolve(__dirname, "..", "..", "..");
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
function inlineProgram(override?: Partial<PhaseSettings>): () => Promise<Record<string, unknown>> {
  return async () => {
    const { buildPhase } = await import("../../programs/phase");
    const { readSettings } = await import("../../programs/settings");
    return buildPhase({ ...readSettings(), ...override }) as unknown as Record<string, unknown>;
  };
}

/** Selects the stack, creating it on first use. */
export async function openStack(opts: StackOptions, create = true, override?: Partial<PhaseSettings>): Promise<Stack> {
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
      // The dynamic-provider host of MachineConfig (bin/plugins), and the delivery code of this probatio.
      PATH: [PLUGINS_DIR, process.env.PATH ?? ""].join(delimiter),
      PROBATIO_DELIVERY_MODULE: join(__dirname, "..", "..", "components", "delivery", "deliver.js"),
    },
  };
  const args = { stackName: opts.stack, projectName: "probatio", program: inlineProgram(override) };
  try {
    const stack = create ? await LocalWorkspace.createOrSelectStack(args, wsOpts) : await LocalWorkspace.selectStack(args, wsOpts);
    return rememberReads(stack, `${wsOpts.envVars.PULUMI_BACKEND_URL}|${wsOpts.workDir}|${opts.stack}`);
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

/** What changes a stack's state (or may have, when it fails): every read remembered before it is forgotten. */
const STACK_CHANGES = ["up", "refresh", "destroy", "import", "importStack", "cancel", "rename"] as const;
/** Reads of a stack's state, each a `pulumi` process of its own. */
const STACK_READS = ["outputs", "exportStack", "history"] as const;

/**
 * One command reads its stack's outputs, state and last update many times (a migration step: before it, in it, and
 * for its checkpoint), each read a `pulumi` process of its own (about 0.5 s): measured in one migration's run, 32
 * `stack output` calls. Within the command a read is remembered until the command itself changes the stack (the
 * update's lock keeps other writers out while it runs; what another operator does meanwhile is what the next command
 * reads). Each caller gets its own copy (some edit the state they import back). Every object of one stack in the
 * process shares what is remembered (`key`: backend, project and stack), so a change made through one (a migration
 * step's update) is never hidden from another (the checkpoint's reader).
 */
const rememberedReads = new Map<string, Map<string, Promise<unknown>>>();

export function rememberReads(stack: Stack, key: string): Stack {
  if (!rememberedReads.has(key)) rememberedReads.set(key, new Map());
  const remembered = rememberedReads.get(key)!;
  const target = stack as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of STACK_READS) {
    const read = target[name].bind(stack);
    target[name] = async (...a: unknown[]) => {
      const call = `${name}${JSON.stringify(a)}`;
      if (!remembered.has(call)) remembered.set(call, read(...a));
      try {
        return structuredClone(await remembered.get(call));
      } catch (err) {
        remembered.delete(call);
        throw err;
      }
    };
  }
  for (const name of STACK_CHANGES) {
    const change = target[name].bind(stack);
    target[name] = async (...a: unknown[]) => {
      // Forgotten before the change; the engine's own reads after it (an update's outputs) are of the new state.
      remembered.clear();
      try {
        return await change(...a);
      } catch (err) {
        remembered.clear();
        throw err;
      }
    };
  }
  return stack;
}
