// The jest projects of both configurations: `npm test` (jest.config.js, what CI runs) leaves out the
// `*.full.test.js` files; `npm run test:full` (jest.full.config.js) runs every file. The README says what the full
// files add and why CI's time does not allow them.
module.exports = (full) =>
  [
    ["unit", ["components", "programs", "offline", "cli", "snapshot"]],
    ["service", ["service"]],
    ["migration", ["migration"]],
    ["boot", ["boot"]],
    ["engine", ["engine"]],
  ].map(([displayName, dirs]) => ({
    displayName,
    testMatch: dirs.map((d) => `<rootDir>/dist/tests/${d}/**/*.test.js`),
    testPathIgnorePatterns: full ? ["/node_modules/"] : ["/node_modules/", "\\.full\\.test\\.js$"],
    testEnvironment: "node",
  }));
