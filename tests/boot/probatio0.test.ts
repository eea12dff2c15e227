/** ProbatioVault phase 0 (classic VPS), booted from its exact user data in Debian 12. */
import { BootNetwork } from "./harness";
import { bootPlan, BootPlan } from "./phases";
import { buildStandins } from "./standins";

jest.setTimeout(30 * 60_000);

let net: BootNetwork;
let plan: BootPlan;
const t0 = Date.now();

beforeAll(async () => {
  plan = await bootPlan("probatio", 0);
  net = await BootNetwork.create("probatio0", plan.gateway, plan.prefixLength, plan.machines, buildStandins());
  // What `up` creates beside the machines: the PostgreSQL backups' bucket.
  await net.createBucket("prod-pg-backups");
  await net.boot(plan.machines);
});

afterAll(async () => {
  await net?.destroy();
});

test("every machine's cloud-init finishes with no error, and every service probatio declares for it is active and enabled", async () => {
  const failures: Record<string, string[]> = {};
  for (const m of plan.machines) {
    const r = await net.cloudInit(m.name);
    process.stderr.write(`${m.name}: cloud-init ${r.status.split("\n")[0]} after ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
    const services = (await net.exec(m.name, "cat /etc/probatio/services 2>/dev/null")).stdout.split("\n").filter(Boolean);
    const down: string[] = [];
    for (const unit of services) {
      const s = await net.exec(m.name, `systemctl is-active ${unit}; systemctl is-enabled ${unit}`);
      // PostgreSQL's cluster units are enabled by Debian's generator at each boot ("enabled-runtime").
      if (!/^active enabled(-runtime)?$/.test(s.stdout.trim().split("\n").join(" ")))
        down.push(`${unit}: ${s.stdout.trim().split("\n").join(" ")}`);
    }
    if (r.errors.length > 0 || !/status: done/.test(r.status) || down.length > 0) failures[m.name] = [r.status, ...r.errors, ...down];
  }
  process.stderr.write(`phase booted in ${((Date.now() - t0) / 1000).toFixed(0)}s, ${await net.memoryMiB()} MiB resident\n`);
  expect(failures).toEqual({});
});

test("after a reboot, every declared service is active again", async () => {
  const down: string[] = [];
  for (const m of plan.machines) {
    await net.restart(m.name);
    const units = (await net.exec(m.name, "cat /etc/probatio/services 2>/dev/null")).stdout.split("\n").filter(Boolean);
    // systemd brings the machine up: wait for it to settle, then every unit must be active.
    await net.exec(m.name, "timeout 120 systemctl is-system-running --wait >/dev/null 2>&1; true");
    for (const unit of units) {
      const s = (await net.exec(m.name, `systemctl is-active ${unit}`)).stdout.trim();
      if (s !== "active") down.push(`${m.name} ${unit}: ${s}`);
    }
  }
  expect(down).toEqual([]);
});
