/**
 * `probatio prices`: the price table the estimates use, each figure with its source and date;
 * `probatio prices refresh`: re-reads it from OVH's public order catalogue (no credentials) into the operator's copy.
 */
import { mkdirSync, writeFileSync } from "fs";
import { dirname } from "path";
import { Command } from "commander";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { loadPrices, operatorPricesPath } from "../../programs/prices";
import { Catalog, refreshFromCatalogs } from "../../programs/prices/catalog";
import { printJson, ui } from "../ui";
import { lazy } from "./common";

/** OVH's European API (the catalogue is public: no application key needed). */
export const DEFAULT_CATALOG_API = "https://eu.api.ovh.com/1.0";

interface PricesOptions {
  json?: boolean;
}
interface RefreshOptions extends PricesOptions {
  api: string;
  subsidiary: string;
  dryRun?: boolean;
}

export function register(program: Command): void {
  const prices = program
    .command("prices")
    .description("the prices estimates use, each with its source (catalog, hand, seed, stack) and date")
    .option("--json", "print one JSON object")
    .action(lazy(() => pricesCommand));
  prices
    .command("refresh")
    .description("re-read the prices from OVH's public order catalogue into ~/.probatio/prices.json (needs the network)")
    .option("--api <url>", "OVH API base URL", DEFAULT_CATALOG_API)
    .option("--subsidiary <code>", "OVH subsidiary whose list prices to read (EUR: FR, DE, ES, ...)", "FR")
    .option("--dry-run", "say what would change; write nothing")
    .option("--json", "print one JSON object")
    .action(lazy(() => refreshCommand));
}

export async function pricesCommand(opts: PricesOptions): Promise<void> {
  const t = loadPrices();
  if (opts.json) {
    printJson({ command: "prices", ...t });
    return;
  }
  ui.heading(`prices of ${t.date} (${t.origin}), EUR excl. VAT per month`);
  for (const [key, e] of Object.entries(t.prices)) {
    process.stdout.write(`  ${key.padEnd(30)} ${String(e.monthlyEur).padStart(7)}  ${e.source.padEnd(7)} ${e.date}  ${e.reference}\n`);
  }
  const hand = Object.values(t.prices).filter((e) => e.source !== "catalog").length;
  if (hand > 0)
    ui.info(`${hand} of ${Object.keys(t.prices).length} figures are not from the catalogue (hand or seed): probatio prices refresh`);
}

async function fetchCatalog(url: string): Promise<Catalog> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new ProbatioError(
      `cannot reach OVH's catalogue at ${url}: ${cause}`,
      "refresh where the network reaches OVH's API, or give --api",
      ExitCode.failure,
    );
  }
  if (!res.ok)
    throw new ProbatioError(`OVH's catalogue answered ${res.status} at ${url}`, "check --subsidiary and --api", ExitCode.failure);
  try {
    return (await res.json()) as Catalog;
  } catch {
    throw new ProbatioError(`OVH's catalogue at ${url} did not answer JSON`, undefined, ExitCode.failure);
  }
}

export async function refreshCommand(own: RefreshOptions, cmd?: Command): Promise<void> {
  // `--json` after `refresh` is parsed by `prices`, which has the same flag.
  const opts = { ...own, json: own.json ?? (cmd?.parent?.opts() as PricesOptions | undefined)?.json };
  if (!/^[A-Z]{2,4}$/.test(opts.subsidiary))
    throw new ProbatioError(`--subsidiary '${opts.subsidiary}' is not a subsidiary code`, "e.g. FR", ExitCode.usage);
  const base = opts.api.replace(/\/+$/, "");
  const urls = ["cloud", "vps"].map((p) => `${base}/order/catalog/public/${p}?ovhSubsidiary=${opts.subsidiary}`);
  const catalogs = await Promise.all(urls.map(fetchCatalog));
  const today = new Date().toISOString().slice(0, 10);
  let report;
  try {
    report = refreshFromCatalogs({ ...loadPrices(), subsidiary: opts.subsidiary }, catalogs, `${base}/order/catalog/public`, today);
  } catch (err) {
    throw new ProbatioError((err as Error).message, undefined, ExitCode.failure);
  }
  const path = operatorPricesPath();
  if (!opts.dryRun) {
    mkdirSync(dirname(path), { recursive: true });
    const { origin: _origin, ...table } = report.table;
    writeFileSync(path, JSON.stringify(table, null, 2) + "\n");
  }
  if (opts.json) {
    const { table: _t, ...rest } = report;
    printJson({ command: "prices refresh", written: opts.dryRun ? null : path, ...rest });
    return;
  }
  for (const u of report.updated) ui.info(`  ${u.key}: ${u.from} -> ${u.to} EUR/month`);
  ui.info(
    `${report.updated.length} changed, ${report.unchanged.length} unchanged, ${report.notInCatalog.length} not sold by the catalogue (kept: ${report.notInCatalog.join(", ")})`,
  );
  if (opts.dryRun) ui.info("dry run: nothing written");
  else ui.ok(`written to ${path}: estimates now use it (delete it to go back to the bundled snapshot)`);
}
