/**
 * ProbatioVault phase 0's dev and test environments: one all-in-one VPS each (the applications, PostgreSQL, and in dev
 * the CI runner), booted from its exact user data with the stack's release set, each on a test network of its own
 * (both VPS answer to the same service name in the plan). The phase 0 suite proves that `up` delivers a classic VPS's
 * user data over SSH; here the same user data is the machine's NoCloud seed. SonarQube (the seed's dev quality gate)
 * is not a Debian package and is not installed by probatio: not booted.
 */
import { BootNetwork, BootMachineSpec } from "./harness";
import { bootPlan, phaseGateway } from "./phases";
import { buildStandins, Standins } from "./standins";

const log = (line: string) => process.stderr.write(`[boot probatio 0 all-in-ones] ${line}\n`);

interface Booted {
  readonly net: BootNetwork;
  readonly machine: BootMachineSpec;
}

/** The all-in-one's boot spec, its release set (renders run one at a time: Pulumi's mocks are per process). */
async function renderAllInOne(stack: "dev" | "test", standins: Standins): Promise<BootMachineSpec> {
  const release = standins.releases[0];
  const url = `http://${phaseGateway("probatio", 0, stack)}:8080/${release.path}`;
  const plan = await bootPlan("probatio", 0, stack, {
    releases: { backend: { url, sha256: release.sha256 }, api: { url, sha256: release.sha256 } },
  });
  if (plan.machines.length !== 1) throw new Error(`${stack}: expected one all-in-one, got ${plan.machines.map((m) => m.name)}`);
  return plan.machines[0];
}

async function bootAllInOne(stack: "dev" | "test", machine: BootMachineSpec, standins: Standins, t0: number): Promise<Booted> {
  const gateway = phaseGateway("probatio", 0, stack);
  const net = await BootNetwork.create(`probatio0${stack}`, gateway, 24, [machine], standins);
  await net.createBucket(machine.userData.match(/repo1-s3-bucket=(\S+)/)![1]);
  await net.boot([machine]);
  const r = await net.cloudInit(machine.name);
  log(
    `${machine.name}: cloud-init ${r.status.split("\n")[0]} ${((Date.now() - t0) / 1000).toFixed(0)} s after the start, ${await net.memoryMiB()} MiB resident`,
  );
  return { net, machine };
}

describe("probatio phase 0's dev and test all-in-ones, booted from their user data", () => {
  const booted: Record<string, Booted> = {};
  const t0 = Date.now();

  beforeAll(async () => {
    const standins = buildStandins();
    const specs = { dev: await renderAllInOne("dev", standins), test: await renderAllInOne("test", standins) };
    const [dev, test] = await Promise.all([bootAllInOne("dev", specs.dev, standins, t0), bootAllInOne("test", specs.test, standins, t0)]);
    Object.assign(booted, { dev, test });
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(booted).map((b) => b.net.destroy()));
  }, 5 * 60_000);

  test.each(["dev", "test"])("%s: cloud-init finishes with no error; every declared service is active and enabled", async (stack) => {
    const { net, machine } = booted[stack];
    const r = await net.cloudInit(machine.name);
    const units = (await net.exec(machine.name, "cat /etc/probatio/services")).stdout.split("\n").filter(Boolean);
    const states: Record<string, string> = {};
    for (const u of units) {
      states[u] = (await net.exec(machine.name, `systemctl is-active ${u}; systemctl is-enabled ${u}`)).stdout.trim().split("\n").join(" ");
    }
    expect({ status: r.status.split("\n")[0], errors: r.errors }).toEqual({ status: "status: done", errors: [] });
    expect(Object.entries(states).filter(([, s]) => !/^active enabled(-runtime)?$/.test(s))).toEqual([]);
    // The seed's all-in-one: the applications under PM2, PostgreSQL and its backups, HAProxy terminating TLS in front
    // of the backend, the host firewall; the CI runner in dev only.
    expect(units.sort()).toEqual(
      stack === "dev"
        ? ["cron", "gitlab-runner", "haproxy", "nftables", "pm2-root", "postgresql@15-main"]
        : ["cron", "haproxy", "nftables", "pm2-root", "postgresql@15-main"],
    );
  });

  test.each(["dev", "test"])(
    "%s: the backend and the api run the STAND-IN release and write through the database URL probatio gives them",
    async (stack) => {
      const { net, machine } = booted[stack];
      for (const [app, port] of [
        ["backend", 3000],
        ["api", 3001],
      ] as const) {
        // The applications' ports are fenced from the network (the host firewall): asked on the machine.
        const answer = await net.exec(machine.name, `curl -sS -m 20 http://127.0.0.1:${port}/probe`);
        expect({ app, code: answer.code, stderr: answer.stderr }).toEqual({ app, code: 0, stderr: "" });
        const probe = JSON.parse(answer.stdout);
        expect(probe).toMatchObject({ version: "1", host: machine.name });
        const row = await net.exec(
          machine.name,
          `sudo -u postgres psql -d app -tAc "SELECT host FROM probatio_probe WHERE id = ${probe.row}"`,
        );
        expect(row.stdout.trim()).toBe(machine.name);
      }
    },
  );
});
