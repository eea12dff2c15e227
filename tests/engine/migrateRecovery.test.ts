import { describeRecovery, RECOVERY_PAIRS } from "./recovery";

// In `npm test` (CI): the two pairs whose every step fails in turn, one in place (ProbatioVault 0-to-1) and one side
// by side with the read shift (ProbatioVault 3-to-4). The other five pairs: `migrateRecoveryPairs.full.test.ts`.
describeRecovery(RECOVERY_PAIRS.filter((p) => p.killAtEveryStep));
