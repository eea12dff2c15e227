// `npm run snapshot`: rewrites tests/snapshot/declared/ from the current program (a deliberate change only).
import { mkdirSync, writeFileSync } from "fs";
import { join } from "path";
import { declaredSnapshot, snapshotCases, snapshotFile } from "./declared";

async function main(): Promise<void> {
  const dir = join(__dirname, "..", "..", "..", "tests", "snapshot", "declared");
  mkdirSync(dir, { recursive: true });
  for (const c of snapshotCases()) writeFileSync(join(dir, snapshotFile(c)), await declaredSnapshot(c));
  process.stdout.write(`${snapshotCases().length} snapshots written to ${dir}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
});
