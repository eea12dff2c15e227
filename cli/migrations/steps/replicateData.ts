/** PostgreSQL logical replication from the source into the target, resumable. */
import * as pgMove from "../pgMove";
import { stackDatabaseUrls } from "../databaseUrls";
import { checkpoint, StepRunner } from "./context";

export const replicateData: StepRunner = {
  kind: "data",
  async run(ctx, step, state) {
    const urls = await stackDatabaseUrls(ctx.stack);
    await pgMove.startReplication(urls);
    let last = 0;
    const p = await pgMove.waitForSync(urls, 1024 * 1024, (x) => {
      if (Date.now() - last > 2000) {
        last = Date.now();
        ctx.log(
          `    tables ${x.tablesReady}/${x.tables}, ~${x.rows} rows, ${(x.bytes / 1048576).toFixed(1)} MB moved, lag ${x.lagBytes === Number.MAX_SAFE_INTEGER ? "?" : (x.lagBytes / 1024).toFixed(0) + " kB"}`,
        );
      }
    });
    return { state: await checkpoint(ctx, state, step.name), detail: p };
  },
  async undo(ctx) {
    await pgMove.rollback(await stackDatabaseUrls(ctx.stack));
    return true;
  },
};
