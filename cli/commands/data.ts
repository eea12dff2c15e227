/** `probatio data`: the data step of a migration on its own (replicate, status, verify, cutover, rollback). */
import { ExitCode, ProbatioError } from "../../lib/errors";
import { databaseUrls, withStackSuperuser } from "../migrations/databaseUrls";
import { openStack } from "../automation/workspace";
import { Command } from "commander";
import { printJson, ui } from "../ui";
import { CommonOptions, lazy, withStackOptions } from "./common";

export function register(program: Command): void {
  withStackOptions(program.command("data"), false)
    .description(
      "the data step of a migration on its own: replicate | status | verify | cutover | rollback (URLs in PROBATIO_SOURCE_DB, PROBATIO_TARGET_DB)",
    )
    .argument("<action>", "replicate, status, verify, cutover or rollback")
    .option("--max-lag <bytes>", "replicate: consider the target caught up under this lag", "1048576")
    .option("--no-wait", "replicate: start and return without waiting")
    .option("--json", "print one JSON object")
    .addHelpText(
      "after",
      "\nWith --stack, a URL for the postgres user without a password gets the stack's superuser password (e.g. postgres://postgres@127.0.0.1:15432/app through an SSH tunnel).",
    )
    .action(lazy(() => dataCommand));
}

export interface DataOptions extends Partial<CommonOptions> {
  json?: boolean;
  maxLag?: string;
  wait?: boolean;
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`;

export async function dataCommand(action: string, opts: DataOptions): Promise<void> {
  const m = await import("../migrations/pgMove");
  // The URLs first: a missing one is refused before the stack is opened.
  const urls = databaseUrls();
  const o = opts.stack ? await withStackSuperuser(urls, await openStack(opts as CommonOptions, false)) : urls;
  const t0 = Date.now();
  switch (action) {
    case "replicate": {
      await m.startReplication(o);
      if (!opts.json) ui.info(`replicating ${m.redact(o.source)} -> ${m.redact(o.target)}`);
      if (opts.wait === false) return;
      let last = 0;
      const p = await m.waitForSync(o, Number(opts.maxLag ?? 1048576), (x) => {
        if (!opts.json && Date.now() - last > 2000) {
          last = Date.now();
          ui.info(
            `  tables ${x.tablesReady}/${x.tables} ready, ~${x.rows} rows, ${mb(x.bytes)} on the target, lag ${x.lagBytes === Number.MAX_SAFE_INTEGER ? "?" : mb(x.lagBytes)}`,
          );
        }
      });
      if (opts.json) printJson({ action, ...p, seconds: (Date.now() - t0) / 1000 });
      else
        ui.ok(
          `target caught up: ${p.tables} tables, ~${p.rows} rows, ${mb(p.bytes)}, lag ${mb(p.lagBytes)} (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
        );
      return;
    }
    case "status": {
      const p = await m.progress(o);
      if (opts.json) printJson({ action, ...p });
      else if (p.lagBytes === Number.MAX_SAFE_INTEGER) ui.info(`no replication in progress (target: ~${p.rows} rows, ${mb(p.bytes)})`);
      else ui.info(`tables ${p.tablesReady}/${p.tables} ready, ~${p.rows} rows, ${mb(p.bytes)}, lag ${mb(p.lagBytes)}`);
      return;
    }
    case "verify": {
      const checks = await m.verify(o);
      if (opts.json) printJson({ action, equal: checks.every((c) => c.equal), tables: checks });
      else for (const c of checks) ui.info(`  ${c.equal ? "✔" : "✖"} ${c.table}: ${c.sourceRows} / ${c.targetRows} rows`);
      if (!checks.every((c) => c.equal)) throw new ProbatioError("source and target differ", undefined, ExitCode.failure);
      return;
    }
    case "cutover": {
      const r = await m.cutover(o, (s) => !opts.json && ui.info(`  ${s}`));
      if (opts.json) printJson({ action, frozenMs: r.switchedAt - r.frozenAt, tables: r.checks });
      else ui.ok(`switched after ${r.switchedAt - r.frozenAt} ms of write freeze; ${r.checks.length} tables identical`);
      return;
    }
    case "rollback": {
      await m.rollback(o);
      if (opts.json) printJson({ action, done: true });
      else ui.ok("replication removed and the source's write freeze lifted");
      return;
    }
    default:
      throw new ProbatioError(`unknown data action '${action}'`, "use replicate, status, verify, cutover or rollback", ExitCode.usage);
  }
}
