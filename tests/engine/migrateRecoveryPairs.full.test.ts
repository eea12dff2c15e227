import { describeRecovery, RECOVERY_PAIRS } from "./recovery";

// `npm run test:full` only: the six pairs `migrateRecovery.test.ts` leaves out (about 30 minutes on 2 cores).
describeRecovery(RECOVERY_PAIRS.filter((p) => !(p.roadmap === "probatio" && p.spec === "0-to-1")));
