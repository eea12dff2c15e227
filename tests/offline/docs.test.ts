import { join } from "path";
import { phaseTable, updateReadme } from "../../offline/docs";

test("the README's phase table and component arguments are the ones generated from the data (run `npm run docs`)", () => {
  expect(updateReadme(join(__dirname, "..", "..", ".."), true)).toBe(true);
});

test("the phase table carries the seeds' figures", () => {
  const t = phaseTable();
  expect(t).toContain("| ProbatioVault | 4 |");
  expect(t).toContain("~300-500 EUR (headline); ~595 EUR (itemised table) | 595 EUR |");
  expect(t).toContain("| KoproGo | 1 |");
  expect(t).toMatch(/\| KoproGo \| 4 \| .* \| 2,000\+ condos \| - \| 99\.99 % \| ~270 EUR \|/);
});
