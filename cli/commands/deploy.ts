/**
 * `probatio deploy <app>`: sets the release an application runs (an archive pinned by its sha256) and rolls it out
 * with a normal `up`: each backend in turn receives it in place, installs it, has PM2 reload it one worker at a time
 * and answers its health check before the next backend is touched. `--rollback` sets the previous release again.
 */
import { Command } from "commander";
import { pm2Apps } from "../../components/config/services";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { recordedPhase, setPlainConfig } from "../automation/stackState";
import { openStack } from "../automation/workspace";
import { ui } from "../ui";
import { CommonOptions, lazy, withStackOptions } from "./common";
import { upCommand } from "./up";

/** A release as the stack's config keeps it: the current one and the one before it. */
interface RecordedRelease {
  readonly url: string;
  readonly sha256: string;
  readonly previous?: { readonly url: string; readonly sha256: string };
}

const APPS = [...pm2Apps];

export function register(program: Command): void {
  withStackOptions(program.command("deploy"))
    .description("set the release an application runs and roll it out, one backend at a time (asks for confirmation)")
    .argument("<app>", `the application: ${APPS.join(" or ")}`)
    .option("--url <url>", "where the machines download the release (.tar.gz with app.js at its root)")
    .option("--sha256 <hex>", "sha256 of the archive (the machines refuse another one)")
    .option("--rollback", "set the previous release again")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--json", "print one JSON object")
    .action(lazy(() => deployCommand));
}

export async function deployCommand(
  app: string,
  opts: CommonOptions & { url?: string; sha256?: string; rollback?: boolean },
): Promise<void> {
  if (!APPS.includes(app)) throw new ProbatioError(`unknown application '${app}'`, `one of: ${APPS.join(", ")}`, ExitCode.usage);
  if (!opts.rollback) {
    if (!opts.url || !/^https?:\/\/\S+$/.test(opts.url)) {
      throw new ProbatioError("--url must be an http(s) URL of the release archive", undefined, ExitCode.usage);
    }
    if (!opts.sha256 || !/^[0-9a-f]{64}$/.test(opts.sha256)) {
      throw new ProbatioError(
        "--sha256 must be the archive's sha256 (64 lowercase hex digits)",
        "sha256sum backend-1.4.2.tar.gz",
        ExitCode.usage,
      );
    }
  }
  const stack = await openStack(opts, false);
  const recorded = await recordedPhase(stack);
  if (!recorded) {
    throw new ProbatioError(`stack '${opts.stack}' has no phase deployed`, "deploy a phase first: probatio up --phase N", ExitCode.usage);
  }
  const config = await stack.getAllConfig();
  const releases = JSON.parse(config["probatio:releases"]?.value ?? "{}") as Record<string, RecordedRelease>;
  const current = releases[app];
  let next: RecordedRelease;
  if (opts.rollback) {
    if (!current?.previous) {
      throw new ProbatioError(`no previous release of ${app} to roll back to`, undefined, ExitCode.refused);
    }
    next = { ...current.previous, previous: { url: current.url, sha256: current.sha256 } };
  } else {
    next = { url: opts.url!, sha256: opts.sha256!, previous: current ? { url: current.url, sha256: current.sha256 } : undefined };
  }
  setPlainConfig(stack, { "probatio:releases": JSON.stringify({ ...releases, [app]: next }) });
  if (!opts.json) ui.info(`${app}: release ${next.sha256.slice(0, 12)} (${next.url}); rolling out with \`up\``);
  try {
    await upCommand({ ...opts, roadmap: recorded.roadmap, phase: String(recorded.phase) });
  } catch (err) {
    // The stack keeps the release it had: a release that did not roll out is never the one a rollback returns to.
    setPlainConfig(stack, { "probatio:releases": JSON.stringify(releases) });
    ui.warn(
      `the roll-out of ${app} stopped; the stack is back on its previous release. A machine before the failing one ` +
        `may run the new release: \`probatio up --stack ${opts.stack}\` brings it back`,
    );
    throw err;
  }
}
