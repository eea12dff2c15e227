/** Checks the target: its recorded phase (in place), or every table copied and caught up (side by side). */
import { ExitCode, ProbatioError } from "../../../lib/errors";
import * as pgMove from "../pgMove";
import { stackDatabaseUrls } from "../databaseUrls";
import { checkpoint, StepRunner } from "./context";

export const verify: StepRunner = {
  kind: "verify",
  async run(ctx, step, state) {
    const { stack, plan } = ctx;
    if (plan.strategy === "in-place") {
      const out = await stack.outputs();
      if (Number(out.phase?.value) !== plan.to)
        throw new ProbatioError(`the stack reports phase ${out.phase?.value}, not ${plan.to}`, undefined, ExitCode.failure);
      return { state: await checkpoint(ctx, state, step.name), detail: { machines: out.machines?.value } };
    }
    const p = await pgMove.progress(await stackDatabaseUrls(ctx.stack));
    if (p.tables === 0 || p.tablesReady !== p.tables || p.lagBytes > 1024 * 1024) {
      throw new ProbatioError(
        `the target is not caught up (${p.tablesReady}/${p.tables} tables, lag ${p.lagBytes} bytes)`,
        "run with --resume once replication has caught up",
        ExitCode.failure,
      );
    }
    return { state: await checkpoint(ctx, state, step.name), detail: p };
  },
};
