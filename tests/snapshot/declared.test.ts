import { readFileSync } from "fs";
import { join } from "path";
import { declaredSnapshot, snapshotCases, snapshotFile } from "./declared";

const dir = join(__dirname, "..", "..", "..", "tests", "snapshot", "declared");

describe("nothing a user has deployed moves: URNs, inputs and user data are the committed snapshot (`npm run snapshot` to change it deliberately)", () => {
  test.each(snapshotCases().map((c) => [c.roadmap, c.phase, c.environment, c] as const))("%s phase %d, %s", async (_r, _p, _e, c) => {
    const expected = readFileSync(join(dir, snapshotFile(c)), "utf8");
    expect(await declaredSnapshot(c)).toBe(expected);
  });
});
