import { describeRecovery, RECOVERY_PAIRS } from "./recovery";

// `npm run test:full` only: the five pairs `migrateRecovery.test.ts` leaves out, each failing in every step that
// changes its cloud or its data (about 25 minutes on 2 cores, beyond what CI's time allows beside the rest).
describeRecovery(RECOVERY_PAIRS.filter((p) => !p.killAtEveryStep));
