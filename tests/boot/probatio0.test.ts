/** ProbatioVault phase 0 (classic VPS): four machines booted from their exact user data in Debian 12. */
import { describeBootedPhase } from "./bootedPhase";

describeBootedPhase("probatio", 0, ["prod-pg-backups"]);
