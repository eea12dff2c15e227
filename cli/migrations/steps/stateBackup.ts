/** Exports the stack's state to a timestamped file (restorable with `pulumi stack import`). */
import { mkdirSync, writeFileSync } from "fs";
import { homedir } from "os";
import { join } from "path";
import { checkpoint, StepRunner } from "./context";

export const stateBackup: StepRunner = {
  kind: "backup",
  async run(ctx, step, state) {
    const { stack, plan } = ctx;
    const dir = join(process.env.PROBATIO_BACKUP_DIR ?? join(homedir(), ".probatio", "backups"));
    mkdirSync(dir, { recursive: true });
    const file = join(
      dir,
      `${stack.name}-${plan.roadmap}-${plan.from}-to-${plan.to}-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
    );
    writeFileSync(file, JSON.stringify(await stack.exportStack(), null, 2), { mode: 0o600 });
    ctx.log(`    state exported to ${file} (restore: pulumi stack import --file ${file})`);
    return { state: await checkpoint(ctx, state, step.name), detail: { file } };
  },
};
