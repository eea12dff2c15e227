/** Runs the rules over a phase's declared resources: what `probatio plan` reports as `policy.violations`. */
import { ExitCode, ProbatioError } from "../lib/errors";
import { EnforcementLevel, PolicyResource, Rule, rules } from "./rules";

export interface Violation {
  readonly policy: string;
  readonly resource: string;
  readonly level: EnforcementLevel;
  readonly message: string;
}

export interface PolicyReport {
  readonly violations: Violation[];
  /** How many mandatory and advisory violations, for a summary line. */
  readonly counts: Record<EnforcementLevel, number>;
}

export function evaluatePolicies(resources: readonly PolicyResource[], use: readonly Rule[] = rules): PolicyReport {
  const violations = use.flatMap((rule) =>
    resources.flatMap((r) =>
      rule.check(r, resources).map((message) => ({ policy: rule.name, resource: `${r.type} ${r.name}`, level: rule.level, message })),
    ),
  );
  return {
    violations,
    counts: {
      mandatory: violations.filter((v) => v.level === "mandatory").length,
      advisory: violations.filter((v) => v.level === "advisory").length,
    },
  };
}

/** Refuses a report with a mandatory violation: `probatio plan` exits non-zero on one (after printing the report). */
export function refuseMandatory(report: PolicyReport, what: string): void {
  const mandatory = report.violations.filter((v) => v.level === "mandatory");
  if (mandatory.length === 0) return;
  throw new ProbatioError(
    `${what} breaks ${mandatory.length} mandatory polic${mandatory.length === 1 ? "y" : "ies"}: ${mandatory
      .map((v) => `${v.policy} (${v.resource})`)
      .join(", ")}`,
    "each violation's message says the fix",
    ExitCode.refused,
  );
}
