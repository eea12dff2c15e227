import { describeRecovery, RECOVERY_PAIRS } from "./recovery";

// In `npm test` (CI): ProbatioVault 0-to-1, every step failing in turn, and killed mid-create then rolled back.
// The six other pairs (3-to-4's every step among them): `migrateRecoveryPairs.full.test.ts`, `npm run test:full`.
describeRecovery(RECOVERY_PAIRS.filter((p) => p.roadmap === "probatio" && p.spec === "0-to-1"));
