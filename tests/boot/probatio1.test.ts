/** ProbatioVault phase 1 (classic VPS, monitored): six machines booted from their exact user data in Debian 12. */
import { describeBootedPhase, probeRowOn } from "./bootedPhase";
import { probeFences } from "./fences";
import { stateResources } from "../engine/harness";
import { MACHINE_CONFIG_TYPE } from "../../components/delivery/configuration";
import { phaseFlows } from "../../programs/phase/flows";
import { environmentFor, getPhase } from "../../programs/roadmaps";

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
    const { net, plan, operator } = booted();
    // An address of the internet: on the test network, not in the allow-list.
    const taken = new Set(plan.machines.map((m) => m.address));
    const outside = Array.from({ length: 50 }, (_, i) => `192.0.2.${200 + i}`).find((a) => !taken.has(a))!;
    expect((await net.probe(`ip addr add ${outside}/24 dev br0`)).code).toBe(0);
    const ssh = (from: string) =>
      net.probe(`curl -s -o /dev/null --interface ${from} --connect-timeout 3 -m 5 -w '%{time_connect}' http://prod-database-1:22/`);
    // No allow-list yet: SSH answers from anywhere (keys only).
    expect(Number((await ssh(outside)).stdout)).toBeGreaterThan(0);

    // The operator's address becomes the allow-list: each machine's firewall is delivered in place and reloaded.
    expect((await operator!.run(["config", "set", "--stack", "prod", "sshAllowList", `${plan.gateway}/32`])).code).toBe(0);
    const up = await operator!.run(["up", "--phase", "1", "--stack", "prod", "--yes", "--json"]);
    expect({ code: up.code, stderr: up.code === 0 ? "" : up.stderr.slice(-3000) }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(up.stdout).changes.update).toBe(6);
    const configs = stateResources(operator!.sandbox, "prod").filter((r) => r.type === MACHINE_CONFIG_TYPE);
    for (const c of configs) expect((c.outputs as { lastDelivery: string }).lastDelivery).toContain("/etc/nftables.conf");

    const flows = phaseFlows(environmentFor(getPhase("probatio", 1), "prod").topology, {});
    const table = await probeFences(
      net,
      flows,
      [
        ...plan.machines.map((m) => ({ kind: "machine" as const, name: m.name, role: m.role })),
        { kind: "namespace", name: "operator", address: plan.gateway, allowListed: true },
        { kind: "namespace", name: "internet", address: outside, allowListed: false },
      ],
      plan.machines,
    );
    process.stderr.write(`[boot probatio 1] fences: ${table.cells} cells probed, ${table.reached} reached, ${table.fenced} fenced\n`);
    expect(table.mismatches).toEqual([]);
    // What the user relies on, stated apart from the flows: from the internet only the entry's 80 and 443 answer.
    expect(table.reachedFrom.internet.sort()).toEqual(["prod-backend-1:443", "prod-backend-1:80"]);
    expect(table.reachedFrom.operator.filter((c) => !c.endsWith(":22")).sort()).toEqual(["prod-backend-1:443", "prod-backend-1:80"]);

    // The phase still answers end to end from the internet: HTTPS at its entry, the backend, Redis, PostgreSQL.
    const entry = await net.probe(`curl -fsS -k -m 20 --retry 5 --retry-delay 1 --interface ${outside} https://prod-backend-1/probe`);
    expect({ code: entry.code, stderr: entry.stderr }).toEqual({ code: 0, stderr: "" });
    const probe = JSON.parse(entry.stdout);
    expect(probe).toMatchObject({ version: "1", host: "prod-backend-1", redis: "prod-backend-1" });
    expect(await probeRowOn(net, "prod-database-1", probe.row, "prod-backend-1", 1)).toBe("prod-backend-1");
  }, 600_000);
});
