import { spawnSync } from "child_process";
import { readFileSync } from "fs";
import { join } from "path";
import { parse } from "yaml";

const root = join(__dirname, "..", "..", "..");
const read = (f: string) => parse(readFileSync(join(root, "templates", "ci", f), "utf8"));
const cli = join(root, "bin", "probatio");

/** Each `./bin/probatio <command> --flag ...` of a script, with the flags the command's --help lists. */
function checkCommands(lines: string[]): string[] {
  const used = lines.flatMap((l) => [...l.matchAll(/\.\/bin\/probatio (\w+)((?: (?:--?[\w-]+|"[^"]*"|[\w$]+))*)/g)]);
  expect(used.length).toBeGreaterThan(0);
  return used.flatMap(([, command, args]) => {
    const help = spawnSync(process.execPath, [cli, command, "--help"], { encoding: "utf8" }).stdout;
    return (args.match(/--[\w-]+/g) ?? []).filter((flag) => !help.includes(flag)).map((flag) => `${command} ${flag}`);
  });
}

describe("the users' CI pipelines (templates/ci)", () => {
  test("GitLab: a preview on every merge request kept as an artifact; up on the default branch, run by a person, one at a time", () => {
    const g = read("gitlab-ci.yml");
    expect(g.stages).toEqual(["preview", "deploy"]);
    expect(g.preview.rules).toEqual([{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }]);
    expect(g.preview.script.join("\n")).toMatch(/\.\/bin\/probatio preview .*--yes --json > preview\.json/);
    expect(g.preview.artifacts.paths).toEqual(["preview.json"]);
    expect(g.up.rules).toEqual([{ if: "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", when: "manual" }]);
    expect(g.up.allow_failure).toBe(false);
    expect(g.up.environment.name).toBe("production");
    expect(g.up.resource_group).toBe("probatio-$PROBATIO_STACK");
    expect(g.up.script.join("\n")).toMatch(/\.\/bin\/probatio up .*--yes --json > up\.json/);
    // No credential in the file: its variables are the stack's coordinates only (the rest are CI/CD variables).
    expect(Object.keys(g.variables).sort()).toEqual(["PROBATIO_PHASE", "PROBATIO_ROADMAP", "PROBATIO_STACK"]);
    expect(checkCommands([...g.preview.script, ...g.up.script])).toEqual([]);
  });

  test("GitHub Actions: a preview of every pull request uploaded; up on main behind the production environment's reviewers", () => {
    const w = read("github-actions.yml");
    expect(Object.keys(w.on).sort()).toEqual(["pull_request", "push"]);
    expect(w.on.push.branches).toEqual(["main"]);
    expect(w.jobs.preview.if).toBe("github.event_name == 'pull_request'");
    expect(w.jobs.up.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(w.jobs.up.environment).toBe("production");
    expect(w.jobs.up.concurrency["cancel-in-progress"]).toBe(false);
    const runs = (job: { steps: { run?: string }[] }) => job.steps.flatMap((s) => (s.run ? [s.run] : []));
    expect(runs(w.jobs.preview).join("\n")).toMatch(/\.\/bin\/probatio preview .*--json > preview\.json/);
    expect(w.jobs.preview.steps.find((s: { uses?: string }) => s.uses?.startsWith("actions/upload-artifact")).with.path).toBe(
      "preview.json",
    );
    // Every credential comes from the repository's secrets.
    for (const [k, v] of Object.entries(w.env as Record<string, string>))
      if (!k.startsWith("PROBATIO_")) expect([k, v]).toEqual([k, `\${{ secrets.${k} }}`]);
    expect(checkCommands([...runs(w.jobs.preview), ...runs(w.jobs.up)])).toEqual([]);
  });
});
