// Tests are compiled by `tsc` first (npm test runs the build), then jest runs the JavaScript.
module.exports = {
  projects: [
    {
      displayName: "unit",
      testMatch: ["components", "programs", "offline", "cli", "snapshot"].map((d) => `<rootDir>/dist/tests/${d}/**/*.test.js`),
      testEnvironment: "node",
    },
    { displayName: "service", testMatch: ["<rootDir>/dist/tests/service/**/*.test.js"], testEnvironment: "node" },
    { displayName: "migration", testMatch: ["<rootDir>/dist/tests/migration/**/*.test.js"], testEnvironment: "node" },
    { displayName: "boot", testMatch: ["<rootDir>/dist/tests/boot/**/*.test.js"], testEnvironment: "node" },
    { displayName: "engine", testMatch: ["<rootDir>/dist/tests/engine/**/*.test.js"], testEnvironment: "node" },
  ],
};
