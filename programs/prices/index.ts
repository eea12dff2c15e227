/**
 * Prices as data: every figure the estimates use, with where it came from and when. The bundled snapshot
 * (snapshot.json) is refreshed from OVH's public order catalogue by `probatio prices refresh`, which writes the
 * operator's copy (~/.probatio/prices.json) where the network exists; a stack can override any entry
 * (`probatio config set --stack S priceOverrides '{"d2-8": 21.5}'`).
 */
import { existsSync, readFileSync } from "fs";
import { homedir } from "os";
import { join } from "path";
import { ExitCode, ProbatioError } from "../../lib/errors";
// Imported (not read) so that the compiler copies the snapshot beside the compiled module.
import bundledSnapshot from "./snapshot.json";

/** Where a figure came from: OVH's catalogue, typed in by hand (with a reference), the seed itself, or a stack's override. */
export type PriceSource = "catalog" | "hand" | "seed" | "stack";

export interface PriceEntry {
  readonly monthlyEur: number;
  readonly source: PriceSource;
  /** The day the figure was read or entered (YYYY-MM-DD). */
  readonly date: string;
  /** What the figure is and where it was read. */
  readonly reference: string;
}

export interface PriceTable {
  readonly date: string;
  readonly subsidiary: string;
  readonly currency: "EUR";
  readonly about: string;
  /** Which file the table was read from (bundled snapshot or the operator's refreshed copy). */
  readonly origin?: string;
  readonly prices: Readonly<Record<string, PriceEntry>>;
}

const SOURCES: readonly PriceSource[] = ["catalog", "hand", "seed", "stack"];

/** The bundled, dated snapshot (in the repository). */
export const BUNDLED_PRICES = join(__dirname, "snapshot.json");

/** The operator's copy written by `probatio prices refresh`. */
export const operatorPricesPath = (): string => join(process.env.PROBATIO_HOME ?? join(homedir(), ".probatio"), "prices.json");

/** Checks a parsed table; names the first entry at fault. */
export function parsePriceTable(raw: unknown, origin: string): PriceTable {
  const bad = (what: string) =>
    new ProbatioError(`price table ${origin}: ${what}`, "restore it from the repository, or run probatio prices refresh", ExitCode.failure);
  if (!raw || typeof raw !== "object") throw bad("not a JSON object");
  const t = raw as Partial<PriceTable>;
  if (typeof t.date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(t.date)) throw bad("'date' must be YYYY-MM-DD");
  if (t.currency !== "EUR") throw bad("'currency' must be EUR");
  if (!t.prices || typeof t.prices !== "object") throw bad("no 'prices'");
  for (const [key, e] of Object.entries(t.prices)) {
    if (!e || typeof e.monthlyEur !== "number" || !Number.isFinite(e.monthlyEur) || e.monthlyEur < 0)
      throw bad(`'${key}': monthlyEur must be a number >= 0`);
    if (!SOURCES.includes(e.source)) throw bad(`'${key}': source must be one of ${SOURCES.join(", ")}`);
    if (typeof e.reference !== "string" || e.reference.length === 0) throw bad(`'${key}': a reference is required`);
    if (typeof e.date !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(e.date)) throw bad(`'${key}': date must be YYYY-MM-DD`);
  }
  return { subsidiary: "FR", about: "", ...t, origin } as PriceTable;
}

function readTable(path: string): PriceTable {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ProbatioError(`cannot read the price table ${path}: ${(err as Error).message}`, undefined, ExitCode.failure);
  }
  return parsePriceTable(raw, path);
}

/** The table the estimates use: the operator's refreshed copy when there is one, else the bundled snapshot. */
export function loadPrices(): PriceTable {
  const own = operatorPricesPath();
  return existsSync(own) ? readTable(own) : bundledPrices();
}

/** The bundled snapshot alone (docs and tests: what the repository says, whatever the operator refreshed). */
export const bundledPrices = (): PriceTable => parsePriceTable(bundledSnapshot, BUNDLED_PRICES);

/** A stack's overrides ({key: EUR per month}) over a table; each overridden entry says so. */
export function withOverrides(table: PriceTable, overrides: Readonly<Record<string, number>>, stack: string, today: string): PriceTable {
  const prices: Record<string, PriceEntry> = { ...table.prices };
  for (const [key, eur] of Object.entries(overrides)) {
    const was = table.prices[key];
    prices[key] = {
      monthlyEur: eur,
      source: "stack",
      date: today,
      reference: `stack '${stack}' priceOverrides` + (was ? ` (was ${was.monthlyEur} EUR, ${was.source})` : ""),
    };
  }
  return { ...table, prices };
}

/** Why a `priceOverrides` value is refused, or undefined. */
export function invalidOverrides(value: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return `not JSON: give an object of prices, e.g. '{"d2-8": 21.5}'`;
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return `give an object of prices, e.g. '{"d2-8": 21.5}'`;
  const known = bundledPrices().prices;
  for (const [k, v] of Object.entries(parsed)) {
    if (!(k in known)) return `'${k}' is not a priced item (known: ${Object.keys(known).join(", ")})`;
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) return `'${k}' must be a number of EUR per month >= 0`;
  }
  return undefined;
}

/** The entry of `key`; a missing one is a data error named with the file to fix. */
export function priceOf(table: PriceTable, key: string): PriceEntry {
  const e = table.prices[key];
  if (!e)
    throw new ProbatioError(
      `no price for '${key}' in ${table.origin ?? "the price table"}`,
      `add it to programs/prices/snapshot.json with its source`,
      ExitCode.failure,
    );
  return e;
}
