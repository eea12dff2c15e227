/**
 * Reads OVH's public order catalogue (`GET /1.0/order/catalog/public/cloud` and `.../vps`, no credentials needed)
 * into the price table. Prices there are integers in 1e-8 of the currency. A Public Cloud flavour is priced by its
 * monthly plan (`<flavour>.monthly.postpaid`), else by its hourly one (`<flavour>.consumption`) times 730 hours;
 * a VPS by its plan's monthly renewal without commitment. Entries the catalogue does not sell (the seed's figures,
 * storage, Cloudflare) keep their source.
 */
import { PriceEntry, PriceTable } from "./index";

/** The part of a catalogue probatio reads. */
interface CatalogPricing {
  readonly price: number;
  readonly intervalUnit?: string;
  readonly interval?: number;
  readonly capacities?: readonly string[];
  readonly commitment?: number;
  readonly mode?: string;
}
interface CatalogOffer {
  readonly planCode: string;
  readonly pricings?: readonly CatalogPricing[];
}
export interface Catalog {
  readonly locale?: { readonly currencyCode?: string; readonly subsidiary?: string };
  readonly plans?: readonly CatalogOffer[];
  readonly addons?: readonly CatalogOffer[];
}

/** Hours in a month as OVH bills hourly resources. */
export const HOURS_PER_MONTH = 730;
const UNIT = 1e8;

const monthly = (o: CatalogOffer | undefined): number | undefined => {
  const p = o?.pricings?.find(
    (x) =>
      x.intervalUnit === "month" &&
      (x.interval ?? 1) === 1 &&
      (x.commitment ?? 0) === 0 &&
      (x.mode === undefined || x.mode === "default") &&
      (x.capacities === undefined || x.capacities.includes("renew") || x.capacities.includes("consumption")),
  );
  return p === undefined ? undefined : p.price / UNIT;
};
const hourly = (o: CatalogOffer | undefined): number | undefined => {
  const p = o?.pricings?.find((x) => x.intervalUnit === "hour");
  return p === undefined ? undefined : p.price / UNIT;
};

/** The monthly price the catalogues give for `key` (a flavour or a VPS plan code), with how it was read. */
export function catalogPrice(key: string, catalogs: readonly Catalog[]): { monthlyEur: number; how: string } | undefined {
  const offers = catalogs.flatMap((c) => [...(c.plans ?? []), ...(c.addons ?? [])]);
  const find = (code: string) => offers.find((o) => o.planCode === code);
  const vps = monthly(find(key));
  if (vps !== undefined) return { monthlyEur: vps, how: `plan ${key}, monthly renewal without commitment` };
  const flavourMonth = monthly(find(`${key}.monthly.postpaid`));
  if (flavourMonth !== undefined) return { monthlyEur: flavourMonth, how: `addon ${key}.monthly.postpaid` };
  const flavourHour = hourly(find(`${key}.consumption`));
  if (flavourHour !== undefined)
    return { monthlyEur: flavourHour * HOURS_PER_MONTH, how: `addon ${key}.consumption, ${flavourHour} EUR/hour x ${HOURS_PER_MONTH} h` };
  return undefined;
}

export interface RefreshReport {
  readonly table: PriceTable;
  readonly updated: readonly { readonly key: string; readonly from: number; readonly to: number }[];
  readonly unchanged: readonly string[];
  /** Entries the catalogue does not sell: they keep their source (hand, seed). */
  readonly notInCatalog: readonly string[];
}

/** The table with every entry the catalogues price replaced by the catalogue's figure, dated `today`. */
export function refreshFromCatalogs(table: PriceTable, catalogs: readonly Catalog[], url: string, today: string): RefreshReport {
  for (const c of catalogs) {
    const currency = c.locale?.currencyCode;
    if (currency !== undefined && currency !== "EUR")
      throw new Error(`the catalogue is in ${currency}, not EUR: ask for an EUR subsidiary (FR)`);
  }
  const prices: Record<string, PriceEntry> = {};
  const updated: { key: string; from: number; to: number }[] = [];
  const unchanged: string[] = [];
  const notInCatalog: string[] = [];
  for (const [key, entry] of Object.entries(table.prices)) {
    const found = catalogPrice(key, catalogs);
    if (!found) {
      prices[key] = entry;
      notInCatalog.push(key);
      continue;
    }
    const eur = Math.round(found.monthlyEur * 100) / 100;
    prices[key] = { monthlyEur: eur, source: "catalog", date: today, reference: `${url}: ${found.how}` };
    if (eur === entry.monthlyEur) unchanged.push(key);
    else updated.push({ key, from: entry.monthlyEur, to: eur });
  }
  return { table: { ...table, date: today, prices }, updated, unchanged, notInCatalog };
}
