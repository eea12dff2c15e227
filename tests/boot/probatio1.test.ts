/** ProbatioVault phase 1 (classic VPS, monitored): six machines booted from their exact user data in Debian 12. */
import { describeBootedPhase, probeRowOn } from "./bootedPhase";
import { probeHostFirewalls } from "./fences";

describeBootedPhase("probatio", 1, { buckets: ["prod-pg-backups"] }, (booted) => {
  test("deploy rolls the STAND-IN release out and the phase answers: backend, pgBouncer beside the primary, PostgreSQL, Redis", async () => {
    const { net, plan, operator, standins } = booted();
    const [v1] = standins.releases;
    const r = await operator!.run([
      "deploy",
      "backend",
      "--stack",
      "prod",
      "--yes",
      "--json",
      "--url",
      `http://${plan.gateway}:8080/${v1.path}`,
      "--sha256",
      v1.sha256,
    ]);
    expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr.slice(-3000) }).toEqual({ code: 0, stderr: "" });
    // The backend's port is fenced from the network: asked on its machine.
    const answer = await net.exec("prod-backend-1", "curl -sS -m 20 http://127.0.0.1:3000/probe");
    const probe = JSON.parse(answer.stdout);
    expect(probe).toMatchObject({ version: "1", host: "prod-backend-1", redis: "prod-backend-1" });
    const row = await net.exec(
      "prod-database-1",
      `sudo -u postgres psql -d app -tAc "SELECT host FROM probatio_probe WHERE id = ${probe.row}"`,
    );
    expect(row.stdout.trim()).toBe("prod-backend-1");
  }, 600_000);

  test("the host firewalls, probed cell by cell from every machine, the operator and the internet: exactly the phase's flows get through, and the phase still answers", async () => {
    const { table, probe: entry } = await probeHostFirewalls(booted(), "probatio", 1);
    expect(table.mismatches).toEqual([]);
    // What the user relies on, stated apart from the flows: from the internet only the entry's 80 and 443 answer.
    expect(table.reachedFrom.internet.sort()).toEqual(["prod-backend-1:443", "prod-backend-1:80"]);
    expect(table.reachedFrom.operator.filter((c) => !c.endsWith(":22")).sort()).toEqual(["prod-backend-1:443", "prod-backend-1:80"]);

    // The phase still answers end to end from the internet: HTTPS at its entry, the backend, Redis, PostgreSQL.
    expect({ code: entry.code, stderr: entry.stderr }).toEqual({ code: 0, stderr: "" });
    const probe = JSON.parse(entry.stdout);
    expect(probe).toMatchObject({ version: "1", host: "prod-backend-1", redis: "prod-backend-1" });
    expect(await probeRowOn(booted().net, "prod-database-1", probe.row, "prod-backend-1", 1)).toBe("prod-backend-1");
  }, 600_000);
});
