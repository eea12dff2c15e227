/** Every kind of migration step, by kind: the plans name steps, the runner runs and undoes them through this table. */
import type { StepKind } from "../plans";
import { StepRunner } from "./context";
import { cutover } from "./cutover";
import { decommission } from "./decommission";
import { preflight } from "./preflight";
import { provision } from "./provision";
import { replicateData } from "./replicateData";
import { resize } from "./resize";
import { shiftReads } from "./shiftReads";
import { stateBackup } from "./stateBackup";
import { switchDns } from "./switchDns";
import { verify } from "./verify";

export const stepRunners: Readonly<Record<StepKind, StepRunner>> = {
  preflight,
  backup: stateBackup,
  resize,
  provision,
  data: replicateData,
  verify,
  traffic: shiftReads,
  cutover,
  dns: switchDns,
  decommission,
};

export type { RunContext, StepRunner } from "./context";
