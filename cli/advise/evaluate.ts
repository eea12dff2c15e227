/**
 * The upgrade gates of a phase, evaluated: metric gates from Prometheus (the worst machine's value held beyond the
 * threshold for the gate's duration) or from a metrics file, counts from the file, judged gates as questions.
 * The verdict: move (with the migration to run) when a measured gate fired, else stay.
 */
import { Gate, Phase } from "../../programs/roadmaps";

/** What the operator measured or counted, by gate key: "users", "condominiums", or a metric gate's key ("cpu_percent"...). */
export type MetricsFile = Readonly<Record<string, number>>;

export type GateResult =
  | { readonly gate: Gate; readonly status: "fired" | "clear"; readonly value: number; readonly source: string }
  | { readonly gate: Gate; readonly status: "unknown"; readonly source: string }
  | { readonly gate: Gate; readonly status: "question"; readonly question: string };

export interface Advice {
  readonly roadmap: string;
  readonly phase: number;
  readonly verdict: "move" | "stay" | "last phase";
  /** The migration to run when the verdict is "move". */
  readonly command?: string;
  readonly fired: GateResult[];
  readonly results: GateResult[];
}

/**
 * Evaluates every gate. `prometheus(query, forMinutes)` gives the lowest value the query took over the last
 * `forMinutes` (undefined: no data); `file` the operator's figures. A file's value wins over Prometheus's.
 */
export async function evaluateGates(
  phase: Phase,
  stack: string,
  file: MetricsFile | undefined,
  prometheus: ((query: string, forMinutes: number) => Promise<number | undefined>) | undefined,
): Promise<Advice> {
  const results: GateResult[] = [];
  for (const g of phase.gatesToNext) {
    switch (g.kind) {
      case "judged":
        results.push({ gate: g, status: "question", question: g.question });
        break;
      case "count": {
        const v = file?.[g.key];
        results.push(
          v === undefined
            ? { gate: g, status: "unknown", source: `no '${g.key}' in the metrics file` }
            : { gate: g, status: v > g.above ? "fired" : "clear", value: v, source: "metrics file" },
        );
        break;
      }
      case "metric": {
        const key = g.key;
        const fromFile = file?.[key];
        if (fromFile !== undefined) {
          results.push({ gate: g, status: fromFile > g.above ? "fired" : "clear", value: fromFile, source: "metrics file" });
          break;
        }
        const v = prometheus ? await prometheus(g.query, g.forMinutes) : undefined;
        results.push(
          v === undefined
            ? {
                gate: g,
                status: "unknown",
                source: prometheus ? `no data in Prometheus for ${g.forMinutes} min` : `no '${key}' in the metrics file`,
              }
            : { gate: g, status: v > g.above ? "fired" : "clear", value: v, source: `Prometheus, lowest over ${g.forMinutes} min` },
        );
        break;
      }
      default: {
        const never: never = g;
        return never;
      }
    }
  }
  const fired = results.filter((r) => r.status === "fired");
  const last = phase.gatesToNext.length === 0;
  return {
    roadmap: phase.roadmap,
    phase: phase.phase,
    verdict: last ? "last phase" : fired.length > 0 ? "move" : "stay",
    command: !last && fired.length > 0 ? `probatio migrate ${phase.phase}-to-${phase.phase + 1} --stack ${stack}` : undefined,
    fired,
    results,
  };
}
