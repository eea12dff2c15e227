/**
 * The seeds' own tables checked against themselves: each figure as the seed writes it, and what the seed's other
 * figures make of it. `seedInconsistencies` returns those that disagree (probatio plan/estimate and the README show them);
 * the phases' notes say which figure probatio records.
 */
import { roadmaps } from "./index";

export interface SeedCheck {
  readonly roadmap: "probatio" | "koprogo";
  readonly phase?: number;
  /** Where in the seed, and what it writes. */
  readonly says: string;
  /** What the seed's other figures give. */
  readonly computed: string;
  readonly consistent: boolean;
}

const HOURS_PER_YEAR = 8766;
const downtime = (percent: number) => ((100 - percent) / 100) * HOURS_PER_YEAR;
const hours = (h: number) => (h >= 1 ? `${h.toFixed(1)} h` : `${Math.round(h * 60)} min`);
/** Within 10 % (the seed rounds: "~44h"). */
const close = (a: number, b: number) => Math.abs(a - b) <= 0.1 * Math.max(a, b);

const pv = (n: number) => roadmaps.probatio.phases.find((p) => p.phase === n)!;
const machines = (n: number) => Object.values(pv(n).environments)[0].fleets.reduce((a, f) => a + f.count, 0);

function downtimeCheck(phase: number, where: string, writtenHours: number, percent: number): SeedCheck {
  const h = downtime(percent);
  return {
    roadmap: "probatio",
    phase,
    says: `${where}: ${percent} % written as ${hours(writtenHours)} downtime a year`,
    computed: `${percent} % is ${hours(h)} a year`,
    consistent: close(h, writtenHours),
  };
}

/** Every check, consistent or not. */
export function seedChecks(): SeedCheck[] {
  const phase4Table = [150, 80, 50, 20, 20, 30, 10, 20, 15, 200];
  return [
    downtimeCheck(0, "phase 0 'Capacités'", 44, 99.5),
    downtimeCheck(1, "'Comparaison des Phases'", 26, 99.7),
    downtimeCheck(2, "phase 2 'Résultats' ('8h→52min')", 52 / 60, 99.9),
    downtimeCheck(2, "'Comparaison des Phases'", 8.7, 99.9),
    downtimeCheck(3, "phase 3 'Résultats' ('52min→4h')", 4, 99.95),
    downtimeCheck(3, "phase 3 'Résultats', the phase 2 side ('52min→4h')", 52 / 60, 99.9),
    downtimeCheck(4, "phase 4 'Capacités'", 52 / 60, 99.99),
    {
      roadmap: "probatio",
      phase: 2,
      says: "phase 2 'Résultats': cost '+60EUR' and 'Investissement : ~80EUR/mois (+4 VPS)'",
      computed: `150 - 90 = 60 EUR, not 80`,
      consistent: false,
    },
    {
      roadmap: "probatio",
      phase: 2,
      says: "phase 2: '+4 VPS'",
      computed: `probatio's phase 2 has ${machines(2)} machines, phase 1 ${machines(1)}: ${machines(2) - machines(1) >= 0 ? "+" : ""}${machines(2) - machines(1)} (the seed's new components: HAProxy, a 3rd backend, pgBouncer, a replica, with Redis kept)`,
      consistent: machines(2) - machines(1) === 4,
    },
    {
      roadmap: "probatio",
      phase: 3,
      says: "phase 3: 'Investissement : ~100EUR/mois (+6 VPS)'",
      computed: `at the floor of 3 backends probatio's phase 3 adds ${machines(3) - machines(2)} machines to phase 2 (2nd HAProxy, 2 Redis, 1 standby, the monitoring machine resized); autoscaling adds up to 7 more`,
      consistent: machines(3) - machines(2) === 6,
    },
    {
      roadmap: "probatio",
      phase: 4,
      says: "phase 4 headline '~300-500EUR' and 'Coûts Phase 4' total '~595EUR/mois'",
      computed: `the table's lines sum to ${phase4Table.reduce((a, b) => a + b, 0)} EUR (K8s at its floor, 150 EUR): above the headline's 500`,
      consistent: false,
    },
    {
      roadmap: "probatio",
      phase: 4,
      says: "phase 4 'K8s Managed 3-50 nodes ~30-50EUR/node ~150-250EUR'",
      computed: `3-50 nodes at 30-50 EUR is ${3 * 30}-${50 * 50} EUR; 150-250 EUR is 3-5 nodes at 50 EUR or 5-8 at 30`,
      consistent: false,
    },
    {
      roadmap: "probatio",
      phase: 4,
      says: "phase 4 'AWS S3 WORM ~500GB/mois ~0.023EUR/GB ~15EUR'",
      computed: `500 x 0.023 = ${(500 * 0.023).toFixed(2)} EUR`,
      consistent: false,
    },
    {
      roadmap: "probatio",
      phase: 4,
      says: "phase 4 'Coût par utilisateur (100k users) ~0.006EUR' from '600EUR / 100000 users'",
      computed: "595 / 100,000 = 0.00595 EUR: consistent with the itemised table, not with the 300-500 EUR headline (0.003-0.005)",
      consistent: true,
    },
    {
      roadmap: "koprogo",
      says: "condominiums per phase: overview 0-1,500 / 1,500-5,000 / 5,000-15,000 / 15,000+; sections 0-1,500 / 500-2,000 (and 3,000-5,000 'estimée') / 500-2,000 (capacity 500-5,000) / 2,000+ (capacity 2,000-50,000+); comparison table 0-100 / 100-500 / 500-2,000 / 2,000+",
      computed: "three different ladders; phase 2's own 'Quand upgrader' (500 condominiums) is below the range it serves",
      consistent: false,
    },
    {
      roadmap: "koprogo",
      phase: 1,
      says: "phase 1 specs '1 vCPU, 2GB RAM'; comparison table 'vCPU 2'",
      computed: "1 vCPU in the phase section, 2 in the table",
      consistent: false,
    },
    {
      roadmap: "koprogo",
      phase: 2,
      says: "phase 2 specs '2 vCPU, 4GB RAM'; comparison table 'RAM 4-8GB'",
      computed: "4 GB in the phase section, 4-8 GB in the table",
      consistent: false,
    },
    {
      roadmap: "koprogo",
      phase: 3,
      says: "overview '99.95% target'; comparison table 'SLA 99.5%'",
      computed: "two targets for the same phase",
      consistent: false,
    },
    {
      roadmap: "koprogo",
      phase: 4,
      says: "overview '99.99% target'; phase section and comparison table 'SLA 99.95%'",
      computed: "two targets for the same phase",
      consistent: false,
    },
    {
      roadmap: "koprogo",
      phase: 1,
      says: "overview '99.74% uptime'; phase 1 'Success rate : 99.74%' (of a load test)",
      computed: "a load test's share of successful requests is not an availability over time",
      consistent: false,
    },
  ];
}

/** The checks that fail: the seeds' inconsistencies. */
export const seedInconsistencies = (roadmap?: string, phase?: number): SeedCheck[] =>
  seedChecks().filter(
    (c) =>
      !c.consistent &&
      (roadmap === undefined || c.roadmap === roadmap) &&
      (phase === undefined || c.phase === undefined || c.phase === phase),
  );
