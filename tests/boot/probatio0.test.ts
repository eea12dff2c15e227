/**
 * ProbatioVault phase 0 (classic VPS): four bare VPS configured by `probatio up` over SSH, then the delivery's
 * promises on the same machines: host keys pinned and kept, an unchanged configuration is a no-op, a change rewrites
 * only its files and restarts nothing else, `refresh` reads back what the machines run and `status` names the older;
 * then the host firewalls, probed cell by cell (phase 1's suite, in `npm run test:full`, probes its six machines too).
 */
import { BootedPhase, describeBootedPhase, hostKeys, probeRowOn } from "./bootedPhase";
import { probeHostFirewalls } from "./fences";
import { STANDIN_PORT } from "./harness";
import { stateResources } from "../engine/harness";
import { MACHINE_CONFIG_TYPE } from "../../components/delivery/configuration";

const configs = (b: BootedPhase) =>
  stateResources(b.operator!.sandbox, "prod")
    .filter((r) => r.type === MACHINE_CONFIG_TYPE)
    .map((r) => r.outputs as { machine: string; digest: string; appliedDigest: string; hostKey: string; lastDelivery: string });

/** The main process of every unit probatio declares on the machine: a restart changes it. */
async function mainPids(b: BootedPhase, machine: string): Promise<Record<string, string>> {
  const units = (await b.net.exec(machine, "cat /etc/probatio/services")).stdout.split("\n").filter(Boolean);
  const pids: Record<string, string> = {};
  for (const u of units) pids[u] = (await b.net.exec(machine, `systemctl show -p MainPID --value ${u}`)).stdout.trim();
  return pids;
}

describeBootedPhase("probatio", 0, { buckets: ["prod-pg-backups"] }, (booted) => {
  test("each machine's units are its own: its SSH server in a control group no other machine shares", async () => {
    const b = booted();
    const groups = await Promise.all(b.plan.machines.map((m) => b.net.sshCgroup(m.name)));
    // All four machines' systemd once shared `/payload/system.slice/ssh.service`: each saw the others' processes.
    expect(new Set(groups).size).toBe(b.plan.machines.length);
    for (const group of groups) expect(group).toMatch(/\/probatio-boot\/pbt-probatio0-\d+\/payload\/system\.slice\/ssh\.service$/);
  });

  test("up delivered each VPS's configuration over SSH: the machine's own host key pinned, the host keys kept", async () => {
    const b = booted();
    const up = JSON.parse(b.up!.stdout);
    expect(up.changes.create).toBe(17);
    const state = configs(b);
    expect(state.map((c) => c.machine).sort()).toEqual(["prod-api-1", "prod-backend-1", "prod-ci-runner-1", "prod-database-1"]);
    for (const c of state) {
      expect(c.lastDelivery).toBe("first delivery (cloud-init from a NoCloud seed)");
      expect(c.appliedDigest).toBe(c.digest);
      const keys = await hostKeys(b.net, c.machine);
      // A first delivery is a new cloud-init instance: without care it would have regenerated the host keys.
      expect(keys).toBe(b.hostKeysBefore!.get(c.machine));
      expect(keys.split("\n")).toContain(c.hostKey);
      const manifest = JSON.parse((await b.net.exec(c.machine, "cat /etc/probatio/applied.json")).stdout);
      expect(manifest.digest).toBe(c.digest);
      expect((await b.net.exec(c.machine, "hostname")).stdout.trim()).toBe(c.machine);
    }
  });

  test("a second up changes nothing on any machine", async () => {
    const b = booted();
    const r = await b.operator!.run(["up", "--phase", "0", "--stack", "prod", "--yes", "--json"]);
    expect(r.code).toBe(0);
    const changes = JSON.parse(r.stdout).changes;
    expect(changes.update ?? 0).toBe(0);
    expect(changes.same).toBe(17);
  }, 300_000);

  test("a new operator key is delivered in place: one file rewritten per machine, no service restarted, the new key lets in", async () => {
    const b = booted();
    const before = Object.fromEntries(await Promise.all(configs(b).map(async (c) => [c.machine, await mainPids(b, c.machine)])));
    const next = b.operator!.newKey("rotated");
    expect((await b.operator!.run(["config", "set", "--stack", "prod", "sshPublicKey", next.publicKey])).code).toBe(0);
    const r = await b.operator!.run(["up", "--phase", "0", "--stack", "prod", "--yes", "--json"]);
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr.slice(-3000) }).toEqual({ code: 0, stderr: "" });
    const changes = JSON.parse(r.stdout).changes;
    expect(changes.update).toBe(4);
    expect(changes.replace ?? 0).toBe(0);
    for (const c of configs(b)) {
      expect(c.lastDelivery).toBe("1 file(s) rewritten: /home/debian/.ssh/authorized_keys; no service restarted");
      expect(await mainPids(b, c.machine)).toEqual(before[c.machine]);
    }
    // From now on only the new key opens the machines: refresh logs in with it.
    const refreshed = await b.operator!.run(["refresh", "--stack", "prod", "--yes", "--json"], { PROBATIO_SSH_KEY: next.path });
    expect(refreshed.code).toBe(0);
    const old = await b.operator!.run(["refresh", "--stack", "prod", "--yes", "--json"]);
    const status = JSON.parse((await b.operator!.run(["status", "--stack", "prod", "--json"], { PROBATIO_SSH_KEY: next.path })).stdout);
    expect(status.configuration).toEqual({
      machines: 4,
      // The old key is refused everywhere: refresh with it cannot read any machine (and says so, machine by machine).
      older: expect.arrayContaining([expect.objectContaining({ machine: "prod-api-1", applied: expect.stringMatching(/^unreachable: /) })]),
    });
    expect(old.code).toBe(0);
    expect((await b.operator!.run(["refresh", "--stack", "prod", "--yes"], { PROBATIO_SSH_KEY: next.path })).code).toBe(0);
    const after = JSON.parse((await b.operator!.run(["status", "--stack", "prod", "--json"])).stdout);
    expect(after.configuration).toEqual({ machines: 4, older: [] });
  }, 600_000);

  test("refresh reads back what a machine runs: status names the machine on an older configuration, and up brings it back", async () => {
    const b = booted();
    const key = { PROBATIO_SSH_KEY: `${b.operator!.keyDir}/rotated` };
    // As if prod-api-1 had been restored from an older image: its manifest records another configuration.
    await b.net.exec("prod-api-1", `sed -i 's/"digest": "sha256:[0-9a-f]*"/"digest": "sha256:older"/' /etc/probatio/applied.json`);
    expect((await b.operator!.run(["refresh", "--stack", "prod", "--yes"], key)).code).toBe(0);
    const status = await b.operator!.run(["status", "--stack", "prod"], key);
    expect(status.stdout + status.stderr).toContain("1 of 4 machine(s) run an older configuration: prod-api-1 (sha256:older)");
    const r = await b.operator!.run(["up", "--phase", "0", "--stack", "prod", "--yes", "--json"], key);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).changes.update).toBe(1);
    const fixed = configs(b).find((c) => c.machine === "prod-api-1")!;
    expect(fixed.lastDelivery).toBe("0 file(s) rewritten; no service restarted");
    expect(JSON.parse((await b.operator!.run(["status", "--stack", "prod", "--json"], key)).stdout).configuration.older).toEqual([]);
  }, 600_000);

  test("until a release is set status says so; deploy rolls the STAND-IN release out and the phase answers: HTTPS at its entry, backend, PostgreSQL", async () => {
    const b = booted();
    const key = { PROBATIO_SSH_KEY: `${b.operator!.keyDir}/rotated` };
    const before = await b.operator!.run(["status", "--stack", "prod"], key);
    expect(before.stdout + before.stderr).toContain("backend      no release set");
    const [v1, v2] = b.standins.releases;
    const url = (r: { path: string }) => `http://${b.plan.gateway}:8080/${r.path}`;
    const deploy = async (args: string[]) => {
      const r = await b.operator!.run(["deploy", "backend", "--stack", "prod", "--yes", "--json", ...args], key);
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr.slice(-3000) }).toEqual({ code: 0, stderr: "" });
    };
    await deploy(["--url", url(v1), "--sha256", v1.sha256]);
    // The backend's port is fenced from the network (its host firewall): asked on its machine.
    const answer = await b.net.exec("prod-backend-1", "curl -sS -m 20 -w '\\n%{http_code}' http://127.0.0.1:3000/probe");
    expect(answer.stdout.trim().split("\n").pop()).toBe("200");
    const probe = JSON.parse(answer.stdout.trim().split("\n")[0]);
    expect(probe).toMatchObject({ version: "1", host: "prod-backend-1" });
    const rows = await b.net.exec(
      "prod-database-1",
      `sudo -u postgres psql -d app -tAc "SELECT host FROM probatio_probe WHERE id = ${probe.row}"`,
    );
    expect(rows.stdout.trim()).toBe("prod-backend-1");
    // The phase's entry: HAProxy on the backend's machine terminates TLS (the first-boot certificate: no acmeEmail
    // here) and forwards to the backend; plain HTTP is redirected. Until HAProxy's health checks see the new backend
    // (two in a row, 2 s apart) it answers 503: curl retries it (-f: the 503 page is not printed).
    const https = await b.net.probe("curl -fsS -k -m 20 --retry 20 --retry-delay 1 -w ' %{http_code}' https://prod-backend-1/health");
    expect(https.stdout).toBe("ok 1\n 200");
    const plain = await b.net.probe("curl -sS -m 20 -o /dev/null -w '%{http_code} %{redirect_url}' http://prod-backend-1/probe");
    expect(plain.stdout).toBe("301 https://prod-backend-1/probe");
    // An archive that is not the one pinned is refused on the machine: the roll-out stops, the old release keeps serving,
    // and the stack stays on it (a rollback never returns to a release that did not roll out).
    const tampered = await b.operator!.run(
      ["deploy", "backend", "--stack", "prod", "--yes", "--url", url(v2), "--sha256", "f".repeat(64)],
      key,
    );
    expect(tampered.code).not.toBe(0);
    expect(tampered.stderr).toContain("does not have the sha256");
    expect((await b.net.exec("prod-backend-1", "curl -fsS http://127.0.0.1:3000/health")).stdout).toBe("ok 1\n");
    expect(JSON.parse((await b.operator!.run(["status", "--stack", "prod", "--json"], key)).stdout).releases.backend.sha256).toBe(
      v1.sha256,
    );
    await deploy(["--url", url(v2), "--sha256", v2.sha256]);
    expect((await b.net.exec("prod-backend-1", "curl -fsS http://127.0.0.1:3000/health")).stdout).toBe("ok 2\n");
    await deploy(["--rollback"]);
    expect((await b.net.exec("prod-backend-1", "curl -fsS http://127.0.0.1:3000/health")).stdout).toBe("ok 1\n");
    expect((await b.net.exec("prod-backend-1", "readlink /opt/probatio/backend/current")).stdout.trim()).toBe(
      `/opt/probatio/backend/releases/${v1.sha256}`,
    );
    const status = JSON.parse((await b.operator!.run(["status", "--stack", "prod", "--json"], key)).stdout);
    expect(status.releases.backend).toEqual({ url: url(v1), sha256: v1.sha256 });
  }, 900_000);

  test("the host firewalls, probed cell by cell from every machine, the operator and the internet: exactly the phase's flows get through, the database opens only its own flows, and the phase still answers", async () => {
    const b = booted();
    const key = { PROBATIO_SSH_KEY: `${b.operator!.keyDir}/rotated` };
    const { table, probe: entry } = await probeHostFirewalls(b, "probatio", 0, key);
    expect(table.mismatches).toEqual([]);
    // What the user relies on, stated apart from the flows: from the internet only the entry's 80 and 443 answer;
    // PostgreSQL only from the backend and the API, SSH only from the allow-list.
    expect(table.reachedFrom.internet.sort()).toEqual(["prod-backend-1:443", "prod-backend-1:80"]);
    expect(table.reachedFrom.operator.filter((c) => !c.endsWith(":22")).sort()).toEqual(["prod-backend-1:443", "prod-backend-1:80"]);
    const postgres = Object.entries(table.reachedFrom).filter(([, cells]) => cells.includes("prod-database-1:5432"));
    expect(postgres.map(([source]) => source).sort()).toEqual(["prod-api-1", "prod-backend-1"]);

    // The database VPS is a data tier, sealed both ways: it may open 443 (Object Storage: here the S3 stand-in on the
    // gateway), not another port of the same address (the stand-in server's); the backend's egress stays open.
    const out = (from: string, port: number) =>
      b.net.exec(from, `curl -s -o /dev/null --connect-timeout 3 -m 5 -w '%{time_connect}' http://${b.plan.gateway}:${port}/ || true`);
    expect(Number((await out("prod-database-1", 443)).stdout)).toBeGreaterThan(0);
    expect(Number((await out("prod-database-1", STANDIN_PORT)).stdout)).toBe(0);
    expect(Number((await out("prod-backend-1", STANDIN_PORT)).stdout)).toBeGreaterThan(0);

    // The phase still answers end to end from the internet: HTTPS at its entry, the backend, PostgreSQL.
    expect({ code: entry.code, stderr: entry.stderr }).toEqual({ code: 0, stderr: "" });
    const probe = JSON.parse(entry.stdout);
    expect(probe).toMatchObject({ version: "1", host: "prod-backend-1" });
    expect(await probeRowOn(b.net, "prod-database-1", probe.row, "prod-backend-1", 1)).toBe("prod-backend-1");
  }, 600_000);
});
