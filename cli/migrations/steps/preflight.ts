/** Checks the source is healthy and the target's settings are present; prints the seed's gates. */
import { ExitCode, ProbatioError } from "../../../lib/errors";
import { gateWording, getPhase } from "../../../programs/roadmaps";
import { checkRequiredConfig } from "../../automation/stackState";
import { checkpoint, StepRunner } from "./context";

export const preflight: StepRunner = {
  kind: "preflight",
  async run(ctx, step, state) {
    const { stack, plan } = ctx;
    const history = await stack.history(1);
    if (history[0] && history[0].result !== "succeeded") {
      throw new ProbatioError(
        `the last update of stack '${stack.name}' did not succeed (${history[0].result})`,
        `run \`probatio up --phase ${plan.from} --stack ${stack.name}\` until it succeeds, then migrate`,
        ExitCode.refused,
      );
    }
    const exported = await stack.exportStack();
    if ((exported.deployment?.pending_operations ?? []).length > 0) {
      throw new ProbatioError(
        `stack '${stack.name}' has pending operations from an interrupted update`,
        `run \`probatio refresh --stack ${stack.name}\` first`,
        ExitCode.refused,
      );
    }
    await checkRequiredConfig(stack, getPhase(plan.roadmap, plan.to));
    for (const g of gateWording(getPhase(plan.roadmap, plan.from).gatesToNext)) ctx.log(`    gate (see probatio advise): ${g}`);
    return { state: await checkpoint(ctx, state, step.name) };
  },
};
