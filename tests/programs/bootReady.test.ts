/**
 * What the boot tests found, asserted on the rendered user data (so that a regression shows in the unit suite too):
 * files written after the packages, a runcmd that stops at the first failure, a node exporter on every machine of a
 * monitored phase, loopback in pg_hba for a colocated pgBouncer, HAProxy's connection limit from the seed.
 */
import { parse } from "yaml";
import { renderPhase } from "../../offline/render";

const phase = (roadmap: "probatio" | "koprogo", n: number) => renderPhase({ roadmap, phase: n, stack: "prod" });
const doc = (cloudInit: string) => parse(cloudInit.replace(/^#cloud-config\n/, ""));

// Each render runs a whole phase program under Pulumi's mocks (seconds on a loaded machine).
jest.setTimeout(180_000);

test("every file is written after the packages are installed, and the first failing command stops the script", async () => {
  for (const n of [0, 1, 2, 3]) {
    for (const m of (await phase("probatio", n)).machines) {
      const d = doc(m.cloudInit);
      expect((d.write_files ?? []).filter((f: { defer?: boolean }) => f.defer !== true)).toEqual([]);
      if (d.runcmd) expect(d.runcmd[0]).toBe("set -eu");
    }
  }
});

test("in a monitored phase, every machine runs the node exporter Prometheus scrapes, and declares it", async () => {
  for (const n of [1, 2, 3]) {
    for (const m of (await phase("probatio", n)).machines) {
      expect({ machine: m.machine, exporter: doc(m.cloudInit).packages.includes("prometheus-node-exporter") }).toEqual({
        machine: m.machine,
        exporter: true,
      });
      expect(m.files["/etc/probatio/services"]).toContain("prometheus-node-exporter\n");
    }
  }
});

test("phase 1's pgBouncer beside the primary may connect over loopback", async () => {
  const db = (await phase("probatio", 1)).machines.find((m) => m.machine === "prod-database-1")!;
  expect(db.files["/etc/postgresql/15/main/pg_hba.conf"]).toMatch(/^host\s+app\s+app\s+127\.0\.0\.1\/32\s+scram-sha-256$/m);
  expect(db.files["/etc/pgbouncer/pgbouncer.ini"]).toContain("app = host=127.0.0.1 port=5432 dbname=app");
});

test("HAProxy accepts the seed's top request rate for the roadmap's 1 s latency budget (phase 2: 8000, phase 3: 30000)", async () => {
  const maxconn = async (n: number) =>
    (await phase("probatio", n)).machines
      .find((m) => m.machine === "prod-lb-1")!
      .files["/etc/haproxy/haproxy.cfg"].match(/^\s+maxconn (\d+)$/m)![1];
  expect(await maxconn(2)).toBe("8000");
  expect(await maxconn(3)).toBe("30000");
});

test("PM2 is pinned, installed from the vendor source setting, started by systemd, and starts no application before a release", async () => {
  const backend = (await phase("probatio", 0)).machines.find((m) => m.machine === "prod-backend-1")!;
  const runcmd: string[] = doc(backend.cloudInit).runcmd;
  // npm's tarball from the registry, checked against its pinned sha512 before it is unpacked, then PM2 with it.
  const npm = runcmd.indexOf("curl -fsSL -o /var/tmp/npm.tgz https://registry.npmjs.org/npm/-/npm-10.9.9.tgz");
  expect(npm).toBeGreaterThan(-1);
  expect(runcmd[npm + 1]).toMatch(/^echo '[0-9a-f]{128} {2}\/var\/tmp\/npm.tgz' \| sha512sum -c --quiet -$/);
  expect(runcmd[npm + 2]).toMatch(/^install -d \/opt\/npm && tar -xzf \/var\/tmp\/npm.tgz -C \/opt\/npm /);
  expect(runcmd[npm + 3]).toBe(
    "node /opt/npm/bin/npm-cli.js install -g --prefix /usr/local --no-audit --no-fund --registry=https://registry.npmjs.org/ pm2@5.4.3",
  );
  expect(runcmd[0]).toBe("set -eu");
  // Not Debian's npm (360 packages).
  expect(doc(backend.cloudInit).packages).not.toContain("npm");
  expect(runcmd.join("\n")).not.toMatch(/apt-get install .*\bnpm\b/);
  expect(runcmd).toContain("pm2 startup systemd -u root --hp /root");
  expect(runcmd).toContain("/usr/local/sbin/probatio-release backend");
  // No release set: the script says so and starts nothing (PM2 would restart a missing script in a loop).
  expect(backend.files["/etc/probatio/releases/backend"]).toBeUndefined();
  expect(backend.files["/usr/local/sbin/probatio-release"]).toMatch(
    /if \[ ! -s "\$spec" \]; then\n.*no release of \$app is set.*\n {2}exit 0/,
  );
  expect(backend.files["/etc/probatio/services"]).toBe("pm2-root\nhaproxy\nnftables\n");
});

test("phases 0-1: HAProxy on the backend's machine terminates 443 in front of the backend's loopback port; port 80 redirects", async () => {
  for (const n of [0, 1]) {
    const machines = (await phase("probatio", n)).machines;
    const withHaproxy = machines.filter((m) => doc(m.cloudInit).packages?.includes("haproxy")).map((m) => m.machine);
    expect(withHaproxy).toEqual(["prod-backend-1"]);
    const cfg = machines.find((m) => m.machine === "prod-backend-1")!.files["/etc/haproxy/haproxy.cfg"];
    expect(cfg).toMatch(/^\s+bind \*:443 ssl crt \/etc\/haproxy\/certs\/site\.pem/m);
    expect(cfg).toMatch(/^\s+bind \*:80$/m);
    expect(cfg).toMatch(/^\s+server backend1 127\.0\.0\.1:3000 weight 100 check$/m);
    // Its stats stay on the loopback: the machine's only interface is public.
    expect(cfg).toMatch(/^\s+bind 127\.0\.0\.1:8404$/m);
  }
  // With acmeEmail, certbot on that machine (as on the load balancers), and phase 1's Prometheus watches the expiry.
  const acme = await renderPhase({ roadmap: "probatio", phase: 1, stack: "prod", overrides: { acme: { email: "oncall@example.com" } } });
  const backend = acme.machines.find((m) => m.machine === "prod-backend-1")!;
  expect(backend.files["/usr/local/sbin/probatio-certificate"]).toContain("-d api.example.com --keep-until-expiring");
  const rules = acme.machines.find((m) => m.machine === "prod-monitoring-1")!.files["/etc/prometheus/rules/probatio.yml"];
  expect(rules).toContain("alert: CertificateExpiring");
});

test("the application is told where its database and cache are: pgBouncer and Redis by address (phase 2), Sentinel (phase 3)", async () => {
  const env = async (n: number) =>
    JSON.parse(
      (await phase("probatio", n)).machines.find((m) => m.machine === "prod-backend-1")!.files["/etc/probatio/pm2/backend.config.json"],
    ).apps[0].env;
  // Classic VPS: by their public IPv4 (OVH's API lists it); Public Cloud: pgBouncer's fixed private address. Always with
  // TLS, the server verified.
  const verified = "sslmode=verify-full&sslrootcert=/etc/probatio/postgres-ca.crt";
  expect(await env(0)).toMatchObject({
    DATABASE_URL: expect.stringMatching(new RegExp(`^postgres://app:.+@192\\.0\\.2\\.\\d+:5432/app\\?${verified}$`)),
    PORT: 3000,
  });
  expect(await env(1)).toMatchObject({
    DATABASE_URL: expect.stringMatching(new RegExp(`@192\\.0\\.2\\.\\d+:6432/app\\?${verified}$`)),
    REDIS_URL: expect.stringMatching(/^redis:\/\/192\.0\.2\.\d+:6379$/),
  });
  expect(await env(2)).toMatchObject({
    DATABASE_URL: expect.stringMatching(new RegExp(`@10\\.1\\.0\\.35:6432/app\\?${verified}$`)),
    REDIS_URL: expect.stringMatching(/^redis:\/\/10\.1\.0\.\d+:6379$/),
  });
  const three = await env(3);
  expect(three.REDIS_SENTINELS.split(",")).toHaveLength(3);
  expect(three).toMatchObject({ REDIS_MASTER_NAME: "prod-redis", REDIS_PASSWORD: expect.any(String) });
});

test("a dev/test all-in-one's applications reach their own PostgreSQL over loopback, which its pg_hba lets them in from", async () => {
  for (const stack of ["dev", "test"]) {
    const [m] = (await renderPhase({ roadmap: "probatio", phase: 0, stack })).machines;
    for (const app of ["backend", "api"]) {
      const env = JSON.parse(m.files[`/etc/probatio/pm2/${app}.config.json`]).apps[0].env;
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/app:[^@]+@127\.0\.0\.1:5432\/app$/);
    }
    expect(m.files["/etc/postgresql/15/main/pg_hba.conf"]).toMatch(/^host\s+app\s+app\s+127\.0\.0\.1\/32\s+scram-sha-256$/m);
  }
});
