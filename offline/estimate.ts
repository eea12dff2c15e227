import { Phase, Topology } from "../programs/roadmaps";
import { loadPrices, PriceSource, PriceTable, priceOf } from "../programs/prices";

export interface CostItem {
  readonly item: string;
  readonly quantity: number;
  /** The item's key in the price table. */
  readonly price: string;
  readonly unitMonthlyEur: number;
  readonly monthlyEur: number;
  /** Where the unit price came from, when, and what it is. */
  readonly source: PriceSource;
  readonly date: string;
  readonly reference: string;
}

export interface Estimate {
  readonly currency: "EUR";
  readonly environment: string;
  readonly items: CostItem[];
  /** This environment's itemised monthly cost. */
  readonly monthlyEur: number;
  /** All environments of the phase together (the seed's figure covers them all). */
  readonly allEnvironmentsMonthlyEur: number;
  /** The seed's figure for the phase, and how it was written when ambiguous. */
  readonly seedMonthlyEur: number;
  readonly seedAsWritten?: string;
  /** (all environments - seed) / seed, in percent, rounded. */
  readonly deltaPercent: number;
  /** The price table used: its file and date, and how many of this environment's figures came from each source. */
  readonly prices: { readonly origin: string; readonly date: string; readonly bySource: Readonly<Partial<Record<PriceSource, number>>> };
  readonly note: string;
}

const cents = (x: number) => Math.round(x * 100) / 100;

export function topologyItems(t: Topology, table: PriceTable): CostItem[] {
  const item = (label: string, key: string, quantity: number): CostItem => {
    const p = priceOf(table, key);
    return {
      item: label,
      quantity,
      price: key,
      unitMonthlyEur: p.monthlyEur,
      monthlyEur: cents(quantity * p.monthlyEur),
      source: p.source,
      date: p.date,
      reference: p.reference,
    };
  };
  return [
    ...t.fleets.map((f) =>
      item(
        `${f.role} (${f.variant === "ovh-vps" ? "VPS" : "instance"} ${f.offer}: ${f.size.vcpu} vCPU, ${f.size.ramGb} GB)`,
        f.offer,
        f.count,
      ),
    ),
    ...(t.extraCosts ?? []).map((c) => item(c.item, c.price, c.quantity ?? 1)),
  ];
}

const sum = (items: readonly CostItem[]) => cents(items.reduce((a, i) => a + i.monthlyEur, 0));

/** Offline monthly estimate of a phase environment from the roadmap data and a price table, compared with the seed's figure. */
export function estimatePhase(phase: Phase, environment: string, table: PriceTable = loadPrices()): Estimate {
  const items = topologyItems(phase.environments[environment], table);
  const all = sum(Object.values(phase.environments).flatMap((t) => topologyItems(t, table)));
  const seed = phase.targets.monthlyCostEur;
  const envCount = Object.keys(phase.environments).length;
  const bySource: Partial<Record<PriceSource, number>> = {};
  for (const i of items) bySource[i.source] = (bySource[i.source] ?? 0) + 1;
  return {
    currency: "EUR",
    environment,
    items,
    monthlyEur: sum(items),
    allEnvironmentsMonthlyEur: all,
    seedMonthlyEur: seed,
    seedAsWritten: phase.targets.costAsWritten,
    deltaPercent: Math.round(((all - seed) / seed) * 100),
    prices: { origin: table.origin ?? "", date: table.date, bySource },
    note:
      (envCount > 1 ? `the seed's figure covers the ${envCount} environments together; ` : "") +
      "EUR excl. VAT; each item says where its price came from (catalog, hand, seed, stack)",
  };
}
