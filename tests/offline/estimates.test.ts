import { availabilityOf, kOfN, requestPath } from "../../offline/availability";
import { capacityOf } from "../../offline/capacity";
import { estimatePhase } from "../../offline/estimate";
import { bundledPrices, invalidOverrides, parsePriceTable, priceOf, withOverrides } from "../../programs/prices";
import { catalogPrice, refreshFromCatalogs } from "../../programs/prices/catalog";
import { getPhase, roadmaps } from "../../programs/roadmaps";
import { seedChecks, seedInconsistencies } from "../../programs/roadmaps/seedChecks";

const prices = bundledPrices();
const pv = (n: number) => getPhase("probatio", n);
const kg = (n: number) => getPhase("koprogo", n);

describe("prices: every figure with its source and date", () => {
  test("every offer and every extra cost of every phase has a price, and no entry lacks a source, date or reference", () => {
    for (const r of Object.values(roadmaps))
      for (const p of r.phases)
        for (const env of Object.keys(p.environments)) {
          const e = estimatePhase(p, env, prices);
          for (const i of e.items) {
            expect(["catalog", "hand", "seed"]).toContain(i.source);
            expect(i.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
            expect(i.reference.length).toBeGreaterThan(10);
          }
        }
    expect(() => parsePriceTable({ ...prices, prices: { x: { monthlyEur: 1, source: "hand", date: "2026-11-30" } } }, "t")).toThrow(
      "'x': a reference is required",
    );
    expect(() =>
      parsePriceTable({ ...prices, prices: { x: { monthlyEur: -1, source: "hand", date: "2026-11-30", reference: "r" } } }, "t"),
    ).toThrow("'x': monthlyEur must be a number >= 0");
  });

  test("the seed's phase 4 table is what the estimate records (595 EUR), each line the seed's figure", () => {
    const e = estimatePhase(pv(4), "prod", prices);
    expect(e.monthlyEur).toBe(595);
    expect(e.items.filter((i) => i.source === "seed").map((i) => i.price)).toEqual([
      "k8s-managed-nodes-floor",
      "postgresql-managed-3-nodes",
      "hsm-kms",
      "managed-load-balancer",
      "nat-gateway-ha",
      "vpc-network",
      "monitoring-logs",
      "worm-storage-500gb",
      "cloudflare-business",
    ]);
    expect(e.prices.bySource).toEqual({ hand: 1, seed: 9 });
  });

  test("one price per offer: phase 3's backends, standbys and monitoring are all d2-8 at the same price", () => {
    const items = estimatePhase(pv(3), "prod", prices).items.filter((i) => i.price === "d2-8");
    expect(new Set(items.map((i) => i.unitMonthlyEur)).size).toBe(1);
    expect(items.map((i) => i.quantity)).toEqual([3, 3, 1, 1]);
  });

  test("a stack's overrides win and say what they replaced; bad overrides are refused with the known keys", () => {
    const t = withOverrides(prices, { "d2-8": 21.5 }, "prod", "2026-12-01");
    expect(priceOf(t, "d2-8")).toEqual({
      monthlyEur: 21.5,
      source: "stack",
      date: "2026-12-01",
      reference: "stack 'prod' priceOverrides (was 12 EUR, hand)",
    });
    expect(estimatePhase(pv(2), "prod", t).monthlyEur).toBe(estimatePhase(pv(2), "prod", prices).monthlyEur + 5 * 9.5);
    expect(invalidOverrides('{"d2-8": 21.5}')).toBeUndefined();
    expect(invalidOverrides('{"d9-99": 1}')).toMatch(/^'d9-99' is not a priced item \(known: vps-2025-model1, /);
    expect(invalidOverrides('{"d2-8": "cheap"}')).toBe("'d2-8' must be a number of EUR per month >= 0");
    expect(invalidOverrides("[1]")).toBe(`give an object of prices, e.g. '{"d2-8": 21.5}'`);
    expect(() => priceOf(prices, "nope")).toThrow("no price for 'nope'");
  });
});

describe("OVH's catalogue", () => {
  // The shape of GET /1.0/order/catalog/public/{cloud,vps}: prices in 1e-8 EUR.
  const cloud = {
    locale: { currencyCode: "EUR", subsidiary: "FR" },
    addons: [
      { planCode: "d2-8.consumption", pricings: [{ price: 3_000_000, intervalUnit: "hour", capacities: ["consumption"] }] },
      {
        planCode: "d2-8.monthly.postpaid",
        pricings: [{ price: 1_650_000_000, intervalUnit: "month", interval: 1, capacities: ["consumption"] }],
      },
      { planCode: "d2-2.consumption", pricings: [{ price: 1_040_000, intervalUnit: "hour", capacities: ["consumption"] }] },
    ],
  };
  const vps = {
    locale: { currencyCode: "EUR" },
    plans: [
      {
        planCode: "vps-2025-model1",
        pricings: [
          { price: 0, intervalUnit: "none", capacities: ["installation"] },
          { price: 420_000_000, intervalUnit: "month", interval: 12, commitment: 12, mode: "upfront12", capacities: ["renew"] },
          { price: 458_000_000, intervalUnit: "month", interval: 1, commitment: 0, mode: "default", capacities: ["installation", "renew"] },
        ],
      },
    ],
  };

  test("a flavour by its monthly plan, else by its hourly one x 730; a VPS by its monthly renewal without commitment", () => {
    expect(catalogPrice("d2-8", [cloud, vps])).toEqual({ monthlyEur: 16.5, how: "addon d2-8.monthly.postpaid" });
    expect(catalogPrice("d2-2", [cloud, vps])?.monthlyEur).toBeCloseTo(7.592, 3);
    expect(catalogPrice("vps-2025-model1", [cloud, vps])?.monthlyEur).toBe(4.58);
    expect(catalogPrice("cloudflare-business", [cloud, vps])).toBeUndefined();
  });

  test("refresh: catalogue entries become 'catalog' with the day and the URL; the seed's and hand figures it does not sell are kept", () => {
    const r = refreshFromCatalogs(prices, [cloud, vps], "https://eu.api.ovh.com/1.0/order/catalog/public", "2026-12-01");
    expect(r.updated).toEqual([
      { key: "vps-2025-model1", from: 4.2, to: 4.58 },
      { key: "d2-2", from: 6, to: 7.59 },
      { key: "d2-8", from: 12, to: 16.5 },
    ]);
    expect(r.table.prices["d2-8"]).toEqual({
      monthlyEur: 16.5,
      source: "catalog",
      date: "2026-12-01",
      reference: "https://eu.api.ovh.com/1.0/order/catalog/public: addon d2-8.monthly.postpaid",
    });
    expect(r.table.prices["cloudflare-business"]).toEqual(prices.prices["cloudflare-business"]);
    expect(r.notInCatalog).toContain("hsm-kms");
    expect(r.table.date).toBe("2026-12-01");
    expect(() => refreshFromCatalogs(prices, [{ locale: { currencyCode: "USD" } }], "u", "2026-12-01")).toThrow(
      "the catalogue is in USD, not EUR",
    );
  });
});

describe("availability from the topology", () => {
  test("k of n", () => {
    expect(kOfN(0.99, 1, 1)).toBeCloseTo(0.99, 12);
    expect(kOfN(0.99, 1, 2)).toBeCloseTo(0.9999, 12);
    expect(kOfN(0.9, 2, 3)).toBeCloseTo(0.972, 12);
  });

  test("phase 0: three lone VPS in series, 99.7 % against the seed's 99.5 %, every tier a single point of failure", () => {
    const a = availabilityOf(pv(0), "prod");
    expect(a.tiers.map((t) => t.name)).toEqual(["application (backend)", "application (api)", "PostgreSQL (database)"]);
    expect(a.percent).toBeCloseTo(100 * 0.999 ** 3, 9);
    expect(a.meetsTarget).toBe(true);
    expect(a.singlePointsOfFailure).toEqual(["application (backend)", "application (api)", "PostgreSQL (database)"]);
  });

  test("phase 1 adds a lone Redis: 99.6 %, below the seed's 99.7 %", () => {
    const a = availabilityOf(pv(1), "prod");
    expect(a.percent).toBeCloseTo(100 * 0.999 ** 4, 9);
    expect(a.meetsTarget).toBe(false);
  });

  test("phase 2 leaves HAProxy, Redis and pgBouncer single; phase 3 leaves pgBouncer alone", () => {
    expect(availabilityOf(pv(2), "prod").singlePointsOfFailure).toEqual([
      "HAProxy (lb)",
      "Redis (cache)",
      "pgBouncer (and etcd's third member)",
    ]);
    const a3 = availabilityOf(pv(3), "prod");
    expect(a3.singlePointsOfFailure).toEqual(["pgBouncer (and etcd's third member)"]);
    expect(a3.tiers.find((t) => t.name.startsWith("PostgreSQL"))).toMatchObject({ nodes: 3, needed: 1, failover: "patroni" });
    expect(a3.meetsTarget).toBe(true);
  });

  test("phase 4 is bounded by its managed services' SLAs: KMS and Object Storage at 99.9 % keep it under the seed's 99.99 %", () => {
    const a = availabilityOf(pv(4), "prod");
    expect(a.singlePointsOfFailure).toEqual([]);
    expect(a.meetsTarget).toBe(false);
    expect(a.percent).toBeLessThan(99.81);
  });

  test("KoproGo 4: 3 K3s servers need 2 (etcd's quorum), 3 agents need 1", () => {
    expect(requestPath(kg(4).environments.prod).map((t) => [t.name, t.needed, t.nodes])).toEqual([
      ["managed load balancer", 1, 1],
      ["K3s servers (API, etcd)", 2, 3],
      ["K3s agents (pods)", 1, 3],
    ]);
  });
});

describe("capacity from the seed's own measurement", () => {
  test("ProbatioVault: 400-600 req/s per application machine, x2 with PM2; phase 1 lands on the seed's 1500-2500", () => {
    const c = capacityOf(roadmaps.probatio, pv(1), "prod");
    expect(c.requestsPerSecond).toEqual({ min: 1600, max: 2400 });
    expect(c.formula).toBe("req/s = 2 application machines x 400-600 req/s each x 2 (PM2 cluster mode); users = req/s x 0.625-0.833");
    expect(c.versusSeed).toEqual([]);
  });

  test("phase 3 at 3-10 backends falls short of the seed's 15000-30000 req/s, and says so", () => {
    const c = capacityOf(roadmaps.probatio, pv(3), "prod");
    expect(c.units).toEqual({ min: 3, max: 10 });
    expect(c.requestsPerSecond).toEqual({ min: 2400, max: 12000 });
    expect(c.versusSeed[0]).toBe("req/s: computed 2400-12000 is below the seed's 15000-30000");
  });

  test("KoproGo: 287 req/s per vCPU; phase 4's 24 agent vCPUs", () => {
    expect(capacityOf(roadmaps.koprogo, kg(1), "prod").requestsPerSecond).toEqual({ min: 287, max: 287 });
    expect(capacityOf(roadmaps.koprogo, kg(4), "prod").requestsPerSecond).toEqual({ min: 24 * 287, max: 24 * 287 });
  });
});

describe("the seeds' own tables", () => {
  test("the computed checks: the downtime each availability means, the phase 2 VPS count", () => {
    const c = seedChecks();
    expect(c.filter((x) => x.says.includes("downtime")).map((x) => [x.phase, x.consistent])).toEqual([
      [0, true],
      [1, true],
      [2, false],
      [2, true],
      [3, true],
      [3, false],
      [4, true],
    ]);
    expect(c.find((x) => x.says === "phase 2: '+4 VPS'")?.consistent).toBe(true);
  });

  test("every inconsistency, by roadmap and phase", () => {
    const count = (r: string, p?: number) => seedInconsistencies(r, p).length;
    expect(count("probatio")).toBe(7);
    expect(count("koprogo")).toBe(6);
    expect(seedInconsistencies("probatio", 4).map((s) => s.computed)).toEqual([
      "the table's lines sum to 595 EUR (K8s at its floor, 150 EUR): above the headline's 500",
      "3-50 nodes at 30-50 EUR is 90-2500 EUR; 150-250 EUR is 3-5 nodes at 50 EUR or 5-8 at 30",
      "500 x 0.023 = 11.50 EUR",
    ]);
  });
});
