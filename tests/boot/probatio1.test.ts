/** ProbatioVault phase 1 (classic VPS, monitored): six machines booted from their exact user data in Debian 12. */
import { describeBootedPhase } from "./bootedPhase";

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
    const answer = await net.probe("curl -sS -m 20 http://prod-backend-1:3000/probe");
    const probe = JSON.parse(answer.stdout);
    expect(probe).toMatchObject({ version: "1", host: "prod-backend-1", redis: "prod-backend-1" });
    const row = await net.exec(
      "prod-database-1",
      `sudo -u postgres psql -d app -tAc "SELECT host FROM probatio_probe WHERE id = ${probe.row}"`,
    );
    expect(row.stdout.trim()).toBe("prod-backend-1");
  }, 600_000);
});
