/** Builds the target: in place (the stack's phase changes) or beside the source (transitional stage). */
import { ExitCode, ProbatioError } from "../../../lib/errors";
import type { MigrationState } from "../../../programs/stackConfig";
import { releaseFromState, setMigration } from "../../automation/stackState";
import { engineUp, isTargetUrn, StepRunner } from "./context";

export const provision: StepRunner = {
  kind: "provision",
  async run(ctx, step, state) {
    const { stack, plan } = ctx;
    const next: MigrationState = {
      ...state,
      stage: plan.strategy === "in-place" ? "in-place" : "transitional",
      completed: [...state.completed, step.name],
    };
    if (plan.strategy === "in-place") await stack.setConfig("probatio:phase", { value: String(plan.to) });
    await setMigration(stack, next);
    const changes = await engineUp(ctx, "provision the target");
    if (changes.delete)
      throw new ProbatioError(
        "provisioning deleted resources, which it must never do",
        "restore the state backup and report this",
        ExitCode.failure,
      );
    return { state: next, detail: changes };
  },
  // Side by side, the target's protected data stores stay in the cloud (released from the stack); the source stays.
  async undo(ctx) {
    const { stack, plan } = ctx;
    if (plan.strategy === "side-by-side") {
      const kept = await releaseFromState(stack, (r) => !!r.protect && isTargetUrn(r.urn));
      for (const k of kept)
        ctx.log(`    kept in the cloud (protected target data store, no longer managed): ${k.type} ${k.urn.split("::").pop()}`);
    }
    await stack.setConfig("probatio:phase", { value: String(plan.from) });
    await setMigration(stack, undefined);
    await engineUp(ctx, "roll back the provisioning");
    return true;
  },
};
