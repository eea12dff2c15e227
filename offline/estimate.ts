import { Phase, Topology } from "../programs/roadmaps";

export interface CostItem {
  readonly item: string;
  readonly quantity: number;
  readonly unitMonthlyEur: number;
  readonly monthlyEur: number;
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
  readonly note: string;
}

export function topologyItems(t: Topology): CostItem[] {
  const items: CostItem[] = t.fleets.map((f) => ({
    item: `${f.role} (${f.variant === "ovh-vps" ? "VPS" : "instance"} ${f.offer}: ${f.size.vcpu} vCPU, ${f.size.ramGb} GB)`,
    quantity: f.count,
    unitMonthlyEur: f.monthlyEur,
    monthlyEur: f.count * f.monthlyEur,
  }));
  for (const c of t.extraCosts ?? []) items.push({ item: c.item, quantity: 1, unitMonthlyEur: c.monthlyEur, monthlyEur: c.monthlyEur });
  return items;
}

const sum = (items: readonly CostItem[]) => items.reduce((a, i) => a + i.monthlyEur, 0);

/** Offline monthly estimate of a phase environment from the roadmap data, compared with the seed's figure. */
export function estimatePhase(phase: Phase, environment: string): Estimate {
  const items = topologyItems(phase.environments[environment]);
  const all = Object.values(phase.environments).reduce((a, t) => a + sum(topologyItems(t)), 0);
  const seed = phase.targets.monthlyCostEur;
  const envCount = Object.keys(phase.environments).length;
  return {
    currency: "EUR",
    environment,
    items,
    monthlyEur: sum(items),
    allEnvironmentsMonthlyEur: all,
    seedMonthlyEur: seed,
    seedAsWritten: phase.targets.costAsWritten,
    deltaPercent: Math.round(((all - seed) / seed) * 100),
    note:
      envCount > 1
        ? `list-price assumptions from the roadmap data; the seed's figure covers the ${envCount} environments together`
        : "list-price assumptions from the roadmap data, EUR excl. VAT",
  };
}
