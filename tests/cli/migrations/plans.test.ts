import { allMigrationPlans, migrationPlan } from "../../../cli/migrations/plans";
import { checkDnsMoved, dnsVerdict, parseEndpoint, parseStages, weightsFor } from "../../../cli/migrations/traffic";
import { ExitCode, ProbatioError } from "../../../lib/errors";

describe("migration plans: how traffic moves", () => {
  test("3-to-4 moves the reads in stages through the source's HAProxy pair before the cutover", () => {
    const p = migrationPlan("probatio", "3-to-4");
    expect(p.traffic).toBe("haproxy-stages");
    expect(p.steps.map((s) => s.name)).toEqual([
      "preflight",
      "state-backup",
      "provision-target",
      "replicate-data",
      "verify-data",
      "shift-reads",
      "cutover",
      "switch-dns",
      "decommission-source",
    ]);
    expect(p.steps.find((s) => s.name === "shift-reads")).toMatchObject({ kind: "traffic", undoable: true });
    expect(p.steps.find((s) => s.name === "cutover")).toMatchObject({ undoable: false });
  });

  test("sources without probatio's HAProxy switch by DNS; in-place migrations keep their entry point", () => {
    const byPair = Object.fromEntries(
      allMigrationPlans().map((p) => [`${p.roadmap}:${p.from}-to-${p.to}:${p.resize ? "resize" : p.strategy}`, p.traffic]),
    );
    expect(byPair).toEqual({
      "probatio:0-to-1:in-place": "none",
      "probatio:1-to-2:side-by-side": "dns",
      "probatio:2-to-3:in-place": "none",
      "probatio:3-to-4:side-by-side": "haproxy-stages",
      "koprogo:1-to-2:resize": "none",
      "koprogo:1-to-2:side-by-side": "dns",
      "koprogo:2-to-3:side-by-side": "dns",
      "koprogo:3-to-4:side-by-side": "dns",
    });
    expect(migrationPlan("probatio", "1-to-2").steps.map((s) => s.name)).not.toContain("shift-reads");
  });
});

describe("KoproGo 1-to-2: the seed's two options", () => {
  test("resize (the default): the VPS grown by OVH in place, then its configuration delivered; side by side on request", () => {
    const p = migrationPlan("koprogo", "1-to-2");
    expect(p).toMatchObject({
      strategy: "in-place",
      resize: { machine: "app-1", toOffer: "vps-essential-2-4-80", toSize: "2 vCPU, 4 GB, 80 GB" },
    });
    expect(p.alternatives).toEqual(["side-by-side"]);
    expect(p.steps.map((s) => s.name)).toEqual(["preflight", "state-backup", "resize-vps", "provision-target", "verify-target"]);
    const side = migrationPlan("koprogo", "1-to-2", "side-by-side");
    expect(side.strategy).toBe("side-by-side");
    expect(side.alternatives).toEqual(["resize"]);
    expect(side.steps.map((s) => s.name)).toContain("replicate-data");
    expect(() => migrationPlan("koprogo", "1-to-2", "teleport")).toThrow("koprogo 1-to-2 has no 'teleport' strategy");
  });
});

describe("read shift settings", () => {
  test("weights give the slot the asked share within HAProxy's 0-256", () => {
    for (const sources of [1, 2, 3, 10]) {
      for (const p of [1, 5, 10, 25, 33, 50, 75, 90]) {
        const w = weightsFor(p, sources);
        expect(w.slot).toBeGreaterThanOrEqual(1);
        expect(w.slot).toBeLessThanOrEqual(256);
        expect(w.source).toBeGreaterThanOrEqual(1);
        expect(w.source).toBeLessThanOrEqual(256);
        expect(Math.abs((100 * w.slot) / (w.slot + sources * w.source) - p)).toBeLessThan(0.5);
      }
    }
    expect(weightsFor(0, 3)).toEqual({ source: 100, slot: 0 });
    expect(weightsFor(100, 3)).toEqual({ source: 0, slot: 100 });
    expect(weightsFor(10, 3)).toEqual({ source: 3, slot: 1 });
    // Out of reach within 256 (99 % against 10 servers): the nearest share, 256 / (256 + 10).
    expect(weightsFor(99, 10)).toEqual({ source: 1, slot: 256 });
  });

  test("stages must ascend and end at 100; endpoints must be HOST:PORT", () => {
    expect(parseStages("5,25,50,100")).toEqual([5, 25, 50, 100]);
    expect(parseStages("100")).toEqual([100]);
    for (const bad of ["", "50", "25,10,100", "0,100", "5,5,100", "5,x,100", "150"]) {
      expect(() => parseStages(bad)).toThrow(ProbatioError);
    }
    expect(parseEndpoint("127.0.0.1:9999", "x")).toEqual({ host: "127.0.0.1", port: 9999 });
    expect(parseEndpoint("lb.example.eu:443", "x")).toEqual({ host: "lb.example.eu", port: 443 });
    expect(parseEndpoint("[::1]:9999", "x")).toEqual({ host: "::1", port: 9999 });
    expect(() => parseEndpoint("127.0.0.1", "PROBATIO_TARGET_ENTRY")).toThrow("PROBATIO_TARGET_ENTRY '127.0.0.1' is not HOST:PORT");
    expect(() => parseEndpoint("h:70000", "x")).toThrow(ProbatioError);
  });
});

describe("decommissioning waits for DNS", () => {
  test("the verdict: no source entry point left, and the target's among the addresses", () => {
    expect(dnsVerdict("api.example.eu", ["203.0.113.10"], ["198.51.100.7"], "203.0.113.10")).toBeUndefined();
    expect(dnsVerdict("api.example.eu", ["198.51.100.7", "203.0.113.10"], ["198.51.100.7"], "203.0.113.10")).toBe(
      "api.example.eu still resolves to the source's entry point 198.51.100.7",
    );
    expect(dnsVerdict("api.example.eu", ["192.0.2.1"], ["198.51.100.7"], "203.0.113.10")).toBe(
      "api.example.eu resolves to 192.0.2.1, not to the target's entry point 203.0.113.10",
    );
    // No known target entry point (a phase without a load balancer): only the source's addresses are checked.
    expect(dnsVerdict("api.example.eu", ["192.0.2.1"], ["198.51.100.7"])).toBeUndefined();
  });

  test("refused with exit 6 and what to do while DNS lags or cannot be resolved", async () => {
    const stale = await checkDnsMoved("api.example.eu", ["198.51.100.7"], "203.0.113.10", async () => ["198.51.100.7"]).catch((e) => e);
    expect(stale).toBeInstanceOf(ProbatioError);
    expect(stale.exitCode).toBe(ExitCode.refused);
    expect(stale.message).toBe(
      "not decommissioning the source: api.example.eu still resolves to the source's entry point 198.51.100.7; removing it now would cut off the users DNS still sends there",
    );
    expect(stale.hint).toContain("point api.example.eu at 203.0.113.10, wait for the record's TTL, then --resume");
    const nx = await checkDnsMoved("api.example.eu", [], undefined, async () => {
      throw new Error("queryA ENOTFOUND api.example.eu");
    }).catch((e) => e);
    expect(nx.message).toContain("cannot resolve api.example.eu");
    expect(nx.exitCode).toBe(ExitCode.refused);
    expect(await checkDnsMoved("api.example.eu", ["198.51.100.7"], "203.0.113.10", async () => ["203.0.113.10"])).toEqual(["203.0.113.10"]);
  });
});
