import { ExitCode, ProbatioError } from "../../lib/errors";
import { configKeys } from "../../programs/stackConfig";
import { openStack } from "../automation/workspace";
import { printJson, ui } from "../ui";
import { Command } from "commander";
import { CommonOptions, lazy, withStackOptions } from "./common";

export function register(program: Command): void {
  const config = program.command("config").description("stack settings (cloud project, secrets, SSH allow-list)");
  withStackOptions(config.command("set"))
    .description("set a stack setting")
    .argument("<key>", "setting name (see `probatio config list`)")
    .argument("<value>", "value")
    .option("--secret", "store encrypted (required for secrets)")
    .action(lazy(() => configSetCommand));
  withStackOptions(config.command("list"))
    .description("list the stack's settings, secrets masked")
    .option("--json", "print one JSON object")
    .action(lazy(() => configListCommand));
}

/** `probatio config set KEY VALUE`: sets a stack setting (secrets encrypted with the stack's passphrase). */
export async function configSetCommand(key: string, value: string, opts: CommonOptions & { secret?: boolean }): Promise<void> {
  const known = configKeys.find((k) => k.key === key);
  if (!known) {
    throw new ProbatioError(`unknown setting '${key}'`, `known settings: ${configKeys.map((k) => k.key).join(", ")}`, ExitCode.usage);
  }
  if (known.key === "phase" || known.key === "roadmap") {
    throw new ProbatioError(
      `'${key}' is set by \`probatio up --phase\` and \`probatio migrate\`, not by hand`,
      undefined,
      ExitCode.refused,
    );
  }
  if (known.secret && !opts.secret) {
    throw new ProbatioError(`'${key}' is a secret: pass --secret so it is stored encrypted`, undefined, ExitCode.usage);
  }
  const why = known.invalid?.(value);
  if (why)
    throw new ProbatioError(
      `'${key}' ${why} (got '${value}')`,
      `probatio config set --stack ${opts.stack} ${key} ${known.example}`,
      ExitCode.usage,
    );
  const stack = await openStack(opts);
  await stack.setConfig(`probatio:${key}`, { value, secret: !!opts.secret });
  ui.ok(`set ${key} on stack '${opts.stack}'${opts.secret ? " (encrypted)" : ""}`);
}

/** `probatio config list`: the stack's settings, secrets masked, and which required ones are missing. */
export async function configListCommand(opts: CommonOptions): Promise<void> {
  const stack = await openStack(opts);
  const config = await stack.getAllConfig();
  const rows = configKeys.map((k) => {
    const v = config[`probatio:${k.key}`];
    return { key: k.key, value: v ? (v.secret ? "[secret]" : v.value) : null, required: k.required, description: k.description };
  });
  if (opts.json) {
    printJson(rows);
    return;
  }
  for (const r of rows)
    ui.info(`  ${r.key.padEnd(14)} ${r.value ?? (r.required ? "(missing, required)" : "(default)")}  — ${r.description}`);
}
