import fc from "fast-check";
import { CpuSample, decide, defaultCooldownSeconds } from "../../cli/autoscale/rule";
import { getPhase } from "../../programs/roadmaps";

// The seed's rule, read from the roadmap data (ProbatioVault phase 3), not restated here.
const rule = getPhase("probatio", 3).environments.prod.scaling!;
const cooldown = defaultCooldownSeconds(rule);
const NOW = 1_800_000_000;

/** Samples every 30 s over the last `minutes`, at `percent` (or a function of minutes before now). */
const flat = (minutes: number, percent: number | ((minutesAgo: number) => number)): CpuSample[] =>
  Array.from({ length: minutes * 2 }, (_, i) => {
    const minutesAgo = minutes - i / 2;
    return { at: NOW - minutesAgo * 60, percent: typeof percent === "number" ? percent : percent(minutesAgo) };
  });

test("the rule is the seed's: 70 % for 5 min adds, 30 % for 10 min removes, 3 to 10 backends; cool-down 10 min", () => {
  expect(rule).toEqual({ min: 3, max: 10, scaleUpCpuPercent: 70, scaleUpForMinutes: 5, scaleDownCpuPercent: 30, scaleDownForMinutes: 10 });
  expect(cooldown).toBe(600);
});

test("5 minutes above 70 % adds exactly one backend; 4 minutes does not", () => {
  expect(decide(rule, { count: 3 }, flat(5, 71), NOW, cooldown)).toMatchObject({ kind: "add", from: 3, to: 4 });
  const four = flat(10, (ago) => (ago <= 4 ? 95 : 50));
  expect(decide(rule, { count: 3 }, four, NOW, cooldown).kind).toBe("stay");
});

test("10 minutes below 30 % removes exactly one; 9 minutes does not; never below 3 nor above 10", () => {
  expect(decide(rule, { count: 5 }, flat(10, 29), NOW, cooldown)).toMatchObject({ kind: "remove", from: 5, to: 4 });
  expect(
    decide(
      rule,
      { count: 5 },
      flat(11, (ago) => (ago <= 9 ? 5 : 50)),
      NOW,
      cooldown,
    ).kind,
  ).toBe("stay");
  expect(decide(rule, { count: 3 }, flat(10, 5), NOW, cooldown)).toMatchObject({ kind: "stay", count: 3 });
  expect(decide(rule, { count: 3 }, flat(10, 5), NOW, cooldown).reason).toContain("already at the minimum (3)");
  expect(decide(rule, { count: 10 }, flat(10, 99), NOW, cooldown).reason).toContain("already at the maximum (10)");
});

test("exactly at a threshold is not beyond it; metrics that do not cover the window decide nothing", () => {
  expect(decide(rule, { count: 4 }, flat(10, 70), NOW, cooldown).kind).toBe("stay");
  expect(decide(rule, { count: 4 }, flat(10, 30), NOW, cooldown).kind).toBe("stay");
  const gap = flat(3, 99);
  expect(decide(rule, { count: 4 }, gap, NOW, cooldown)).toMatchObject({
    kind: "stay",
    reason: expect.stringContaining("not enough metrics"),
  });
});

const trace = fc.array(fc.float({ min: 0, max: 100, noNaN: true }), { minLength: 30, maxLength: 240 });

test("property: whatever the CPU does, the count stays within 3-10, moves one step at a time, and two changes are a cool-down apart", () => {
  fc.assert(
    fc.property(trace, fc.integer({ min: 3, max: 10 }), (perMinute, start) => {
      // One sample a minute (each held for the minute, sampled twice), evaluated every minute as the loop would.
      const samples: CpuSample[] = perMinute.flatMap((p, m) => [
        { at: NOW + m * 60, percent: p },
        { at: NOW + m * 60 + 30, percent: p },
      ]);
      let state: { count: number; lastActionAt?: number } = { count: start };
      const actions: number[] = [];
      for (let m = 0; m < perMinute.length; m++) {
        const now = NOW + m * 60 + 30;
        const d = decide(rule, state, samples, now, cooldown);
        if (d.kind !== "stay") {
          expect(Math.abs(d.to - d.from)).toBe(1);
          expect(d.from).toBe(state.count);
          state = { count: d.to, lastActionAt: now };
          actions.push(now);
        }
        expect(state.count).toBeGreaterThanOrEqual(rule.min);
        expect(state.count).toBeLessThanOrEqual(rule.max);
      }
      for (let i = 1; i < actions.length; i++) expect(actions[i] - actions[i - 1]).toBeGreaterThanOrEqual(cooldown);
    }),
    { numRuns: 300 },
  );
});

test("property: no flapping: a load that holds still never gets an add and a remove; one between the thresholds gets neither", () => {
  fc.assert(
    fc.property(fc.float({ min: 0, max: 100, noNaN: true }), fc.integer({ min: 3, max: 10 }), (p, start) => {
      let state: { count: number; lastActionAt?: number } = { count: start };
      const kinds = new Set<string>();
      const samples = flat(120, p);
      for (let m = 100; m >= 0; m -= 1) {
        const now = NOW - m * 60;
        const d = decide(rule, state, samples, now, cooldown);
        if (d.kind !== "stay") {
          kinds.add(d.kind);
          state = { count: d.to, lastActionAt: now };
        }
      }
      expect(kinds.size).toBeLessThanOrEqual(1);
      if (p >= rule.scaleDownCpuPercent && p <= rule.scaleUpCpuPercent) expect(kinds.size).toBe(0);
    }),
    { numRuns: 200 },
  );
});

test("property: inside the cool-down nothing changes, whatever the metrics say", () => {
  fc.assert(
    fc.property(trace, fc.integer({ min: 3, max: 10 }), fc.integer({ min: 0, max: cooldown - 1 }), (perMinute, count, since) => {
      const samples = perMinute.map((p, i) => ({ at: NOW - (perMinute.length - i) * 60, percent: p }));
      expect(decide(rule, { count, lastActionAt: NOW - since }, samples, NOW, cooldown).kind).toBe("stay");
    }),
  );
});
