// The jest projects of both configurations: `npm test` (jest.config.js, what CI runs) leaves out the files below;
// `npm run test:full` (jest.full.config.js) runs every file. On 2 cores the whole suite is about two hours of
// CPU-bound work (machines installing their packages, the engine's updates), beyond CI's 90 minutes: these files
// prove what CI's files prove too (the same components booted in phase 3, the same migration code in other pairs)
// on other phases, pairs and providers. The README lists them and what each adds.
const FULL_ONLY = [
  "boot/probatio1", // phase 1 booted (phase 0 boots classic VPS delivered by `up` and probes their firewalls in CI)
  "boot/probatio2", // phase 2 booted (phase 3 boots the same Patroni, pgBouncer, HAProxy and VRRP in CI)
  "boot/allinones", // ProbatioVault 0's dev and test all-in-ones booted
  "boot/koprogo", // KoproGo 1-2's Compose VPS booted as far as Docker goes (its user data: the unit tests)
  "boot/migration1to2", // the 1-to-2 data step between booted machines (the data step itself: tests/migration)
  "engine/standinDelivery", // phase 2's in-place delivery and deploy on STAND-IN machines (booted: phases 3 and 0)
  "engine/edge", // Cloudflare's proxy on the engine (its resources: the unit tests)
  "engine/autoscale", // the autoscaler's rule through the engine from a real Prometheus (its decision: unit tests)
  "engine/migrateTraffic", // 3-to-4's staged read shift through a real HAProxy
  "engine/migrateKoprogo", // KoproGo 1-to-2's resize on the engine (its plan: the unit tests)
  "engine/migrateRecoveryPairs", // the recovery of six more migration pairs (CI: ProbatioVault 0-to-1)
];

module.exports = (full) =>
  [
    ["unit", ["components", "programs", "offline", "cli", "snapshot"]],
    ["service", ["service"]],
    ["migration", ["migration"]],
    ["boot", ["boot"]],
    ["engine", ["engine"]],
  ].map(([displayName, dirs]) => ({
    displayName,
    testMatch: dirs.map((d) => `<rootDir>/dist/tests/${d}/**/*.test.js`),
    testPathIgnorePatterns: ["/node_modules/", ...(full ? [] : FULL_ONLY.map((f) => `/dist/tests/${f}\\.(full\\.)?test\\.js$`))],
    testEnvironment: "node",
  }));
