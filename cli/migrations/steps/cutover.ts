/** Write freeze, catch-up, checksums, switch; then every request to the target. */
import * as pgMove from "../pgMove";
import { stackDatabaseUrls } from "../databaseUrls";
import * as traffic from "../traffic";
import { checkpoint, shiftOptions, StepRunner } from "./context";

export const cutover: StepRunner = {
  kind: "cutover",
  async run(ctx, step, state) {
    const { plan } = ctx;
    const urls = await stackDatabaseUrls(ctx.stack);
    const shift = plan.traffic === "haproxy-stages" ? shiftOptions(ctx) : undefined;
    // The target must be able to take every request before the writes freeze.
    if (shift) await traffic.ensureAttached(shift);
    const r = await pgMove.cutover(urls, (s) => ctx.log(`    ${s}`));
    if (shift) {
      await traffic.shiftAll(shift);
      ctx.log(`    every request now goes to the target through the source's ${shift.lbs.length} HAProxy`);
    }
    ctx.log(`    writes frozen for ${r.switchedAt - r.frozenAt} ms; ${r.checks.length} tables identical`);
    return {
      state: await checkpoint(ctx, state, step.name),
      detail: {
        freezeMs: r.switchedAt - r.frozenAt,
        tables: r.checks,
        traffic: shift ? "all requests through the source's HAProxy to the target" : "the DNS switch next",
      },
    };
  },
};
