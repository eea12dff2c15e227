/**
 * The seed's autoscaling rule for the backends (ProbatioVault phase 3: "CPU > 70 % pendant 5 min -> +1 instance;
 * CPU < 30 % pendant 10 min -> -1; min 3, max 10"), as a pure decision: the backends' CPU samples, the count and the
 * last action in; one step up, one step down, or stay, with the reason. The clock is an argument, never read here.
 */
import { ScalingRule } from "../../programs/roadmaps";

/** The backends' average CPU, in percent, at a moment (epoch seconds). */
export interface CpuSample {
  readonly at: number;
  readonly percent: number;
}

export interface ScalingState {
  readonly count: number;
  /** When the autoscaler last changed the count (epoch seconds). */
  readonly lastActionAt?: number;
}

export type Decision =
  | { readonly kind: "add"; readonly from: number; readonly to: number; readonly reason: string }
  | { readonly kind: "remove"; readonly from: number; readonly to: number; readonly reason: string }
  | { readonly kind: "stay"; readonly count: number; readonly reason: string };

/**
 * Never two actions within it: the effect of one (a new backend taking its share, the others taking a removed one's)
 * must show in the metrics before the next is decided. Defaults to the rule's longest window (10 min).
 */
export const defaultCooldownSeconds = (rule: ScalingRule) => 60 * Math.max(rule.scaleUpForMinutes, rule.scaleDownForMinutes);

/** A window counts as observed when its samples start within this of its beginning (a scrape or two late at most). */
export const COVERAGE_TOLERANCE_SECONDS = 60;

/** The samples of the last `minutes`, if they cover the whole window; undefined when the metrics do not reach back so far. */
function window(samples: readonly CpuSample[], now: number, minutes: number): CpuSample[] | undefined {
  const start = now - minutes * 60;
  const inside = samples.filter((s) => s.at > start && s.at <= now);
  if (inside.length === 0 || Math.min(...inside.map((s) => s.at)) > start + COVERAGE_TOLERANCE_SECONDS) return undefined;
  return inside;
}

const pct = (x: number) => `${Math.round(x * 10) / 10} %`;

export function decide(
  rule: ScalingRule,
  state: ScalingState,
  samples: readonly CpuSample[],
  now: number,
  cooldownSeconds: number,
): Decision {
  const { count } = state;
  if (state.lastActionAt !== undefined && now - state.lastActionAt < cooldownSeconds) {
    const left = Math.ceil((cooldownSeconds - (now - state.lastActionAt)) / 60);
    return {
      kind: "stay",
      count,
      reason: `cool-down: the last change was ${Math.floor((now - state.lastActionAt) / 60)} min ago (${left} min left)`,
    };
  }
  const up = window(samples, now, rule.scaleUpForMinutes);
  if (up && up.every((s) => s.percent > rule.scaleUpCpuPercent)) {
    const low = Math.min(...up.map((s) => s.percent));
    if (count >= rule.max)
      return {
        kind: "stay",
        count,
        reason: `CPU above ${rule.scaleUpCpuPercent} % for ${rule.scaleUpForMinutes} min (lowest ${pct(low)}) but already at the maximum (${rule.max})`,
      };
    return {
      kind: "add",
      from: count,
      to: count + 1,
      reason: `CPU above ${rule.scaleUpCpuPercent} % for ${rule.scaleUpForMinutes} min (lowest ${pct(low)})`,
    };
  }
  const down = window(samples, now, rule.scaleDownForMinutes);
  if (down && down.every((s) => s.percent < rule.scaleDownCpuPercent)) {
    const high = Math.max(...down.map((s) => s.percent));
    if (count <= rule.min)
      return {
        kind: "stay",
        count,
        reason: `CPU below ${rule.scaleDownCpuPercent} % for ${rule.scaleDownForMinutes} min (highest ${pct(high)}) but already at the minimum (${rule.min})`,
      };
    return {
      kind: "remove",
      from: count,
      to: count - 1,
      reason: `CPU below ${rule.scaleDownCpuPercent} % for ${rule.scaleDownForMinutes} min (highest ${pct(high)})`,
    };
  }
  if (!up && !down)
    return { kind: "stay", count, reason: `not enough metrics: the samples do not cover the last ${rule.scaleUpForMinutes} min` };
  const last = samples.filter((s) => s.at <= now).pop();
  return {
    kind: "stay",
    count,
    reason: `CPU ${last ? pct(last.percent) : "unknown"} now: within ${rule.scaleDownCpuPercent}-${rule.scaleUpCpuPercent} % or not for long enough`,
  };
}
