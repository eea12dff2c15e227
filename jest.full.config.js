// `npm run test:full`: every test file, the `*.full.test.js` ones included.
module.exports = { projects: require("./jest.projects.js")(true) };
