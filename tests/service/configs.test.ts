import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { renderPhase, writeRendered } from "../../offline/render";
import { roadmaps } from "../../programs/roadmaps";
import { exec } from "./daemons";
import { parse } from "yaml";

jest.setTimeout(300_000);

/** Every environment of every phase of both roadmaps, rendered to disk like `probatio render` does. */
const targets = Object.values(roadmaps).flatMap((r) =>
  r.phases.flatMap((p) => Object.keys(p.environments).map((env) => ({ roadmap: r.id, phase: p.phase, env }))),
);

async function limit<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
    }),
  );
}

interface Check {
  tool: string;
  file: string;
  machine: string;
}

describe("every rendered file of every phase of both roadmaps is accepted by the real tools", () => {
  const root = mkdtempSync(join(tmpdir(), "probatio-render-"));
  const checks: Check[] = [];
  let certPath = "";

  beforeAll(async () => {
    certPath = join(root, "site.pem");
    await exec("sh", [
      "-c",
      `openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=probatio -keyout ${root}/k.pem -out ${root}/c.pem 2>/dev/null && cat ${root}/c.pem ${root}/k.pem > ${certPath}`,
    ]);
    for (const t of targets) {
      const dir = join(root, `${t.roadmap}-${t.phase}-${t.env}`);
      const rendered = await renderPhase({ roadmap: t.roadmap, phase: t.phase, stack: t.env, environment: t.env });
      writeRendered(rendered, dir);
      for (const m of rendered.machines) {
        const base = join(dir, m.machine);
        checks.push({ tool: "cloud-init", file: join(base, "cloud-init.yaml"), machine: m.machine });
        for (const path of Object.keys(m.files)) {
          const file = join(base, "files", path);
          const tool = path.endsWith("haproxy.cfg")
            ? "haproxy"
            : path.endsWith("keepalived.conf")
              ? "keepalived"
              : path.endsWith("prometheus.yml")
                ? "promtool-config"
                : path.endsWith("rules/probatio.yml")
                  ? "promtool-rules"
                  : path.endsWith("alertmanager.yml")
                    ? "amtool"
                    : path.endsWith("docker-compose.yml")
                      ? "docker-compose"
                      : undefined;
          if (tool) checks.push({ tool, file, machine: `${t.roadmap}-${t.phase}-${t.env}/${m.machine}` });
        }
      }
    }
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("the rendered set covers every kind of daemon config", () => {
    const kinds = new Set(checks.map((c) => c.tool));
    expect([...kinds].sort()).toEqual([
      "amtool",
      "cloud-init",
      "docker-compose",
      "haproxy",
      "keepalived",
      "promtool-config",
      "promtool-rules",
    ]);
    expect(checks.filter((c) => c.tool === "cloud-init").length).toBeGreaterThan(40);
  });

  test("cloud-init schema accepts every machine's user data", async () => {
    const failures: string[] = [];
    await limit(
      checks.filter((c) => c.tool === "cloud-init"),
      4,
      async (c) => {
        const r = await exec("cloud-init", ["schema", "-c", c.file]).catch((e) => ({ stdout: "", stderr: String(e.stderr ?? e) }));
        if (!/Valid cloud-config/.test(r.stdout)) failures.push(`${c.machine}: ${r.stderr}`);
      },
    );
    expect(failures).toEqual([]);
  });

  test("the cloud-init schema check is real: it refuses a malformed document", async () => {
    const bad = join(root, "bad.yaml");
    writeFileSync(bad, "#cloud-config\npackages: 5\n");
    await expect(exec("cloud-init", ["schema", "-c", bad])).rejects.toThrow(/not of type 'array'/);
  });

  test("haproxy -c accepts every haproxy.cfg (its certificate path pointed at a test certificate)", async () => {
    const files = checks.filter((c) => c.tool === "haproxy");
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const c of files) {
      const cfg = readFileSync(c.file, "utf8").replace("/etc/haproxy/certs/site.pem", certPath);
      writeFileSync(c.file, cfg);
      const r = await exec("haproxy", ["-c", "-f", c.file]);
      expect(r.stdout + r.stderr).toMatch(/Configuration file is valid/);
    }
  });

  test("keepalived --config-test accepts every keepalived.conf (in a network namespace that has the machine's ens3)", async () => {
    const files = checks.filter((c) => c.tool === "keepalived");
    expect(files.length).toBe(2);
    for (const c of files) {
      await exec("unshare", ["-n", "sh", "-c", `ip link add ens3 type veth peer name peer0 && keepalived --config-test -f ${c.file}`]);
    }
  });

  test("promtool accepts every prometheus.yml and alert rules file; amtool every alertmanager.yml", async () => {
    for (const c of checks.filter((x) => x.tool === "promtool-rules")) {
      expect((await exec("promtool", ["check", "rules", c.file])).stdout).toMatch(/SUCCESS: \d+ rules found/);
    }
    for (const c of checks.filter((x) => x.tool === "promtool-config")) {
      const rules = c.file.replace(/prometheus\.yml$/, "rules/probatio.yml");
      writeFileSync(c.file, readFileSync(c.file, "utf8").replace("/etc/prometheus/rules/probatio.yml", rules));
      expect((await exec("promtool", ["check", "config", c.file])).stdout).toMatch(/SUCCESS/);
    }
    const am = checks.filter((x) => x.tool === "amtool");
    expect(am.map((c) => c.machine)).toEqual(["probatio-3-prod/prod-monitoring-1"]);
    for (const c of am) expect((await exec("amtool", ["check-config", c.file])).stdout).toMatch(/SUCCESS/);
  });

  test("Debian 12's docker-compose (1.29, what the machine installs) accepts every Compose file, as the machine runs it", async () => {
    const files = checks.filter((c) => c.tool === "docker-compose");
    expect(files.map((c) => c.machine).sort()).toEqual(["koprogo-1-prod/prod-app-1", "koprogo-2-prod/prod-app-1"]);
    for (const c of files) {
      // The files it names on the machine, from the same rendering.
      const etc = c.file.replace(/opt\/koprogo\/docker-compose\.yml$/, "etc/probatio/");
      writeFileSync(c.file, readFileSync(c.file, "utf8").replaceAll("/etc/probatio/", etc));
      const r = await exec("docker-compose", ["-p", "koprogo", "-f", c.file, "config"]);
      const config = parse(r.stdout);
      expect(Object.keys(config.services).sort()).toEqual(["backend", "postgres", "traefik"]);
      expect(config.services.backend.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
      if (c.machine.startsWith("koprogo-2")) expect(config.services.backend.mem_limit).toBe("500M");
    }
  });
});
