/** ProbatioVault phase 1 (classic VPS, monitored): six machines booted from their exact user data in Debian 12. */
import { describeBootedPhase, prometheusTargets } from "./bootedPhase";

describeBootedPhase("probatio", 1, ["prod-pg-backups"], (booted) => {
  test("Prometheus on the monitoring machine reports every scrape target UP, one node exporter per machine", async () => {
    const { net, plan } = booted();
    const monitoring = plan.machines.find((m) => m.role === "monitoring")!;
    const targets = await prometheusTargets(net, monitoring.address);
    expect(targets.filter((t) => t.health !== "up")).toEqual([]);
    // Every machine of the phase is scraped (the monitoring machine's own exporter included), and Prometheus itself.
    expect(targets.filter((t) => t.job.startsWith("node-")).length).toBe(plan.machines.length - 1);
    expect(targets.map((t) => t.job)).toContain("prometheus");
  });
});
