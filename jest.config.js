// Tests are compiled by `tsc` first (npm test runs the build), then jest runs the JavaScript.
module.exports = { projects: require("./jest.projects.js")(false) };
