/** ProbatioVault phase 2 (Public Cloud instances on 10.1.0.0/24): every machine booted from its exact user data. */
import { describeBootedPhase, prometheusTargets } from "./bootedPhase";

describeBootedPhase("probatio", 2, ["prod-pg-backups"], (booted) => {
  test("Prometheus on the monitoring machine reports every scrape target UP", async () => {
    const { net, plan } = booted();
    const monitoring = plan.machines.find((m) => m.role === "monitoring")!;
    const targets = await prometheusTargets(net, monitoring.address);
    expect(targets.filter((t) => t.health !== "up")).toEqual([]);
    expect(targets.filter((t) => t.job.startsWith("node-")).length).toBe(plan.machines.length - 1);
  });

  test("the standby streams from the primary at the plan's address", async () => {
    const { net } = booted();
    const r = await net.exec(
      "prod-database-standby-1",
      `sudo -u postgres psql -Atc "select status, sender_host from pg_stat_wal_receiver"`,
    );
    expect(r.stdout.trim()).toBe("streaming|10.1.0.30");
  });

  test("the phase answers end to end: HTTPS to HAProxy, a backend running the STAND-IN release, pgBouncer, the primary, Redis; the row reaches the standby", async () => {
    const { net, plan } = booted();
    const lb = plan.machines.find((m) => m.role === "lb")!;
    // HAProxy's certificate is self-signed until the edge issue (ACME): -k here, and only here.
    let answer = await net.probe(`curl -kfsS -m 20 https://${lb.address}/probe`);
    for (let i = 0; i < 30 && answer.code !== 0; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      answer = await net.probe(`curl -kfsS -m 20 https://${lb.address}/probe`);
    }
    expect({ code: answer.code, err: answer.stderr }).toEqual({ code: 0, err: "" });
    const probe = JSON.parse(answer.stdout);
    expect(probe).toMatchObject({ version: "1", host: expect.stringMatching(/^prod-backend-[123]$/), redis: probe.host });
    const read = (machine: string) =>
      net.exec(machine, `sudo -u postgres psql -d app -tAc "SELECT host FROM probatio_probe WHERE id = ${probe.row}"`);
    expect((await read("prod-database-1")).stdout.trim()).toBe(probe.host);
    let standby = "";
    for (let i = 0; i < 20 && standby !== probe.host; i++) {
      standby = (await read("prod-database-standby-1")).stdout.trim();
      if (standby !== probe.host) await new Promise((r) => setTimeout(r, 500));
    }
    expect(standby).toBe(probe.host);
    // Every backend started the release at first boot, and HAProxy sees all three healthy.
    for (const b of plan.machines.filter((m) => m.role === "backend")) {
      expect((await net.probe(`curl -fsS -m 5 http://${b.address}:3000/health`)).stdout).toBe("ok 1\n");
    }
  }, 180_000);
});
