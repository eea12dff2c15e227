/** The source's HAProxy moves the reads to the target in stages, with health gates. */
import * as traffic from "../traffic";
import { checkpoint, shiftOptions, StepRunner } from "./context";

export const shiftReads: StepRunner = {
  kind: "traffic",
  async run(ctx, step, state) {
    const stages = await traffic.shiftReads(shiftOptions(ctx));
    return { state: await checkpoint(ctx, state, step.name), detail: { stages } };
  },
  // A failed stage may have moved part of the reads before its gate failed: every request goes back to the source.
  undoUnfinished: true,
  async undo(ctx) {
    await traffic.detachTarget(shiftOptions(ctx).lbs);
    return true;
  },
};
