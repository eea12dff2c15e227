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
});
