/**
 * In-place delivery, decided from what a machine reports: a machine never configured gets cloud-init from a seed, an
 * instance that ran the same user data at creation only records it, a change rewrites only its files and restarts only
 * their services. The scripts run for real in the boot tests (tests/boot/delivery.test.ts).
 */
import { renderPhase } from "../../offline/render";
import { configDigest, manifestOf, parseConfiguration } from "../../components/delivery/configuration";
import { ownerOf } from "../../components/delivery/owners";
import { describePlan, planDelivery } from "../../components/delivery/plan";
import { deliveryScript } from "../../components/delivery/script";

// Each case renders whole phases (two for a change between phases): a few seconds each on a loaded machine.
jest.setTimeout(120_000);

const machine = async (phase: number, name: string) =>
  (await renderPhase({ roadmap: "probatio", phase, stack: "prod" })).machines.find((m) => m.machine === name)!.cloudInit;

test("a machine that never ran probatio's configuration gets it through cloud-init, keeping its SSH host keys", async () => {
  const ud = await machine(0, "prod-backend-1");
  const plan = planDelivery(ud, { cloudInitUserData: "#cloud-config\nhostname: vps-1234\n" });
  expect(plan.kind).toBe("first");
  const script = deliveryScript(plan)!;
  expect(script).toContain("cloud-init clean --logs");
  // The seed is the user data byte for byte, plus the one line that keeps the host keys the operator pinned.
  const seeded = Buffer.from(
    /put '\/var\/lib\/cloud\/seed\/nocloud\/user-data' '0600' 'root:root' '([^']+)'/.exec(script)![1],
    "base64",
  ).toString();
  expect(seeded).toBe(ud + "ssh_deletekeys: false\n");
  expect(script.trim().split("\n").pop()).toMatch(/^put '\/etc\/probatio\/applied\.json'/);
});

test("an instance whose cloud-init ran this user data at creation records it and changes nothing; then it is unchanged", async () => {
  const ud = await machine(2, "prod-database-1");
  const recorded = planDelivery(ud, { cloudInitUserData: ud });
  expect(recorded.kind).toBe("record");
  expect(
    deliveryScript(recorded)!
      .split("\n")
      .filter((l) => l.startsWith("put ")),
  ).toHaveLength(1);
  const manifest = JSON.stringify(manifestOf(parseConfiguration(ud)));
  expect(planDelivery(ud, { manifest, cloudInitUserData: ud })).toEqual({ kind: "unchanged", digest: configDigest(ud) });
  expect(deliveryScript({ kind: "unchanged", digest: configDigest(ud) })).toBeUndefined();
});

test("a changed pg_hba of a phase 1 primary rewrites that file only and reloads PostgreSQL only", async () => {
  const ud = await machine(1, "prod-database-1");
  const changed = ud.replace(/(host\s+app\s+\S+\s+)(\S+)/, "$1vps-changed.vps.ovh.net");
  expect(changed).not.toBe(ud);
  const plan = planDelivery(changed, { manifest: JSON.stringify(manifestOf(parseConfiguration(ud))) });
  expect(describePlan(plan)).toBe("1 file(s) rewritten: /etc/postgresql/15/main/pg_hba.conf; reload postgresql@15-main");
  const script = deliveryScript(plan)!;
  expect(script).toContain("systemctl reload-or-restart 'postgresql@15-main'");
  expect(script).not.toMatch(/apt-get|systemctl restart/);
});

test("where Patroni owns PostgreSQL (phase 2), a changed pg_hba rewrites its file only and applies it through Patroni, no restart", async () => {
  const ud = await machine(2, "prod-database-1");
  const changed = ud.replace(/(host\s+replication\s+\S+\s+)(\S+)/, "$110.1.0.99/32");
  expect(changed).not.toBe(ud);
  const plan = planDelivery(changed, { manifest: JSON.stringify(manifestOf(parseConfiguration(ud))) });
  expect(describePlan(plan)).toBe("1 file(s) rewritten: /etc/patroni/config.yml; apply patroni");
  const script = deliveryScript(plan)!;
  expect(script).toContain("/usr/local/sbin/probatio-patroni-apply");
  expect(script).not.toMatch(/apt-get|systemctl restart/);
});

test("phase 2's HAProxy node becoming phase 3's first node installs keepalived, writes its file and enables it", async () => {
  const before = await machine(2, "prod-lb-1");
  const after = await machine(3, "prod-lb-1");
  const plan = planDelivery(after, { cloudInitUserData: before });
  if (plan.kind !== "delta") throw new Error(`expected a delta, got ${plan.kind}`);
  expect(plan.packages).toEqual(["keepalived"]);
  expect(plan.enable).toEqual(["keepalived"]);
  expect(plan.files.map((f) => f.path).sort()).toEqual([
    "/etc/haproxy/haproxy.cfg",
    "/etc/keepalived/keepalived.conf",
    "/etc/probatio/services",
  ]);
  expect(plan.actions).toEqual([
    { kind: "reload", unit: "haproxy" },
    { kind: "reload", unit: "keepalived" },
  ]);
});

test("every file probatio renders belongs to a service the machine declares, or needs no action", async () => {
  for (const n of [0, 1, 2, 3, 4]) {
    for (const m of (await renderPhase({ roadmap: "probatio", phase: n, stack: "prod" })).machines) {
      const declared = parseConfiguration(m.cloudInit).services;
      for (const path of Object.keys(m.files)) {
        const owner = ownerOf(path);
        if (owner.kind === "reload" || owner.kind === "restart") {
          expect({ machine: m.machine, path, unit: declared.includes(owner.unit) ? owner.unit : "undeclared" }).toEqual({
            machine: m.machine,
            path,
            unit: owner.unit,
          });
        }
      }
    }
  }
}, 120_000);
