/**
 * PostgreSQL's TLS wherever probatio holds both ends: across the public network (the classic VPS phases) and on the
 * private network of phases 2-3 (application to pgBouncer, pgBouncer to the leader, standbys to the leader). Each
 * server presents a certificate of the stack's database CA naming its address, the clients verify it, and
 * everything is rendered the same on every run. Checked with the real openssl.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { parse } from "yaml";
import { DATABASE_CA_FILE } from "../../components/config/databaseTls";
import { renderPhase, Rendered, RenderedMachine } from "../../offline/render";

// Each render runs the whole phase program under Pulumi's mocks (a second or two, more on a loaded machine).
jest.setTimeout(180_000);

const CONF = "/etc/postgresql/15/main/conf.d/probatio.conf";
const SERVER_CERT = "/etc/postgresql/15/main/probatio-server.crt";
const SERVER_KEY = "/etc/postgresql/15/main/probatio-server.key";
const machine = (r: Rendered, name: string) => r.machines.find((m) => m.machine === name && !m.migrationTarget)!;
const databaseUrl = (m: RenderedMachine) => {
  const pm2 = Object.entries(m.files).find(([p]) => p.startsWith("/etc/probatio/pm2/"))![1];
  return new URL(JSON.parse(pm2).apps[0].env.DATABASE_URL as string);
};
const fileEntry = (m: RenderedMachine, path: string) =>
  (parse(m.cloudInit.replace(/^#cloud-config\n/, "")).write_files as { path: string; permissions: string; owner: string }[]).find(
    (f) => f.path === path,
  )!;

/** Runs openssl on files written to a scratch directory. */
function openssl(files: Record<string, string>, args: (dir: string) => string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "probatio-tls-"));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return execFileSync("openssl", args(dir), { stdio: "pipe" }).toString().trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("ProbatioVault phase 0: the application verifies PostgreSQL across the public network", () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderPhase({ roadmap: "probatio", phase: 0, stack: "prod" });
  });

  test("the backend and the api connect with verify-full against the stack's CA, which their machines hold", () => {
    const db = machine(r, "prod-database-1");
    for (const app of ["prod-backend-1", "prod-api-1"]) {
      const url = databaseUrl(machine(r, app));
      expect({ host: url.hostname, port: url.port, search: url.search }).toEqual({
        host: db.address,
        port: "5432",
        search: `?sslmode=verify-full&sslrootcert=${DATABASE_CA_FILE}`,
      });
      expect(machine(r, app).files[DATABASE_CA_FILE]).toMatch(/^-----BEGIN CERTIFICATE-----/);
    }
  });

  test("the server's certificate verifies against that CA for the database's address, with the key PostgreSQL holds (0600, postgres)", () => {
    const db = machine(r, "prod-database-1");
    const ca = machine(r, "prod-backend-1").files[DATABASE_CA_FILE];
    const files = { "ca.pem": ca, "server.pem": db.files[SERVER_CERT], "server.key": db.files[SERVER_KEY] };
    expect(openssl(files, (d) => ["verify", "-CAfile", `${d}/ca.pem`, "-verify_ip", db.address!, `${d}/server.pem`])).toMatch(
      /server\.pem: OK$/,
    );
    // Another address is refused: the certificate names the database's own.
    expect(() => openssl(files, (d) => ["verify", "-CAfile", `${d}/ca.pem`, "-verify_ip", "192.0.2.250", `${d}/server.pem`])).toThrow();
    const certKey = openssl(files, (d) => ["x509", "-in", `${d}/server.pem`, "-pubkey", "-noout"]);
    expect(openssl(files, (d) => ["pkey", "-in", `${d}/server.key`, "-pubout"])).toBe(certKey);
    expect(fileEntry(db, SERVER_KEY)).toMatchObject({ permissions: "0600", owner: "postgres:postgres" });
    expect(db.files[CONF]).toContain(`ssl_cert_file = '${SERVER_CERT}'\nssl_key_file = '${SERVER_KEY}'`);
  });

  test("the same stack renders the same certificates on every run (no delivery for nothing)", async () => {
    const again = await renderPhase({ roadmap: "probatio", phase: 0, stack: "prod" });
    expect(machine(again, "prod-database-1").files[SERVER_CERT]).toBe(machine(r, "prod-database-1").files[SERVER_CERT]);
    expect(machine(again, "prod-api-1").files[DATABASE_CA_FILE]).toBe(machine(r, "prod-api-1").files[DATABASE_CA_FILE]);
  });
});

test("phase 1: pgBouncer beside the primary takes TLS only, with the same kind of certificate; the application verifies it on 6432", async () => {
  const r = await renderPhase({ roadmap: "probatio", phase: 1, stack: "prod" });
  const db = machine(r, "prod-database-1");
  expect(db.files["/etc/pgbouncer/pgbouncer.ini"]).toContain(
    [
      "client_tls_sslmode = require",
      "client_tls_cert_file = /etc/pgbouncer/probatio-server.crt",
      "client_tls_key_file = /etc/pgbouncer/probatio-server.key",
    ].join("\n"),
  );
  expect(db.files["/etc/pgbouncer/probatio-server.crt"]).toBe(db.files[SERVER_CERT]);
  const url = databaseUrl(machine(r, "prod-backend-1"));
  expect(`${url.hostname}:${url.port}${url.search}`).toBe(`${db.address}:6432?sslmode=verify-full&sslrootcert=${DATABASE_CA_FILE}`);
});

describe("ProbatioVault phase 3: TLS on the private network, from the application to pgBouncer to the leader, and between the nodes", () => {
  let r: Rendered;
  const nodes = ["prod-database-1", "prod-database-standby-1", "prod-database-standby-2"];
  beforeAll(async () => {
    r = await renderPhase({ roadmap: "probatio", phase: 3, stack: "prod" });
  });

  test("every backend verifies pgBouncer's machine (verify-full on its fixed address, 6432), whose certificate names that address", () => {
    const bouncer = machine(r, "prod-pgbouncer-1");
    const ca = bouncer.files[DATABASE_CA_FILE];
    for (const app of ["prod-backend-1", "prod-backend-2", "prod-backend-3"]) {
      const url = databaseUrl(machine(r, app));
      expect(`${url.hostname}:${url.port}${url.search}`).toBe(
        `${bouncer.address}:6432?sslmode=verify-full&sslrootcert=${DATABASE_CA_FILE}`,
      );
      expect(machine(r, app).files[DATABASE_CA_FILE]).toBe(ca);
    }
    const files = { "ca.pem": ca, "server.pem": bouncer.files["/etc/pgbouncer/probatio-server.crt"] };
    expect(openssl(files, (d) => ["verify", "-CAfile", `${d}/ca.pem`, "-verify_ip", bouncer.address!, `${d}/server.pem`])).toMatch(/OK$/);
    expect(bouncer.files["/etc/pgbouncer/pgbouncer.ini"]).toContain(
      [
        "client_tls_sslmode = require",
        "client_tls_cert_file = /etc/pgbouncer/probatio-server.crt",
        "client_tls_key_file = /etc/pgbouncer/probatio-server.key",
        "client_tls_protocols = tlsv1.3",
        "server_tls_sslmode = verify-ca",
        `server_tls_ca_file = ${DATABASE_CA_FILE}`,
        "server_tls_protocols = tlsv1.3",
      ].join("\n"),
    );
    expect(fileEntry(bouncer, "/etc/pgbouncer/probatio-server.key")).toMatchObject({ permissions: "0600", owner: "postgres:postgres" });
  });

  test("each database node: its own certificate for its address, PostgreSQL on TLS 1.3, hostssl only from the network, replication and pg_rewind verifying the leader", () => {
    const ca = machine(r, "prod-pgbouncer-1").files[DATABASE_CA_FILE];
    const certs = new Set<string>();
    for (const name of nodes) {
      const node = machine(r, name);
      expect(node.files[DATABASE_CA_FILE]).toBe(ca);
      const cert = node.files["/etc/patroni/probatio-server.crt"];
      certs.add(cert);
      const files = { "ca.pem": ca, "server.pem": cert, "server.key": node.files["/etc/patroni/probatio-server.key"] };
      expect(openssl(files, (d) => ["verify", "-CAfile", `${d}/ca.pem`, "-verify_ip", node.address!, `${d}/server.pem`])).toMatch(/OK$/);
      expect(openssl(files, (d) => ["pkey", "-in", `${d}/server.key`, "-pubout"])).toBe(
        openssl(files, (d) => ["x509", "-in", `${d}/server.pem`, "-pubkey", "-noout"]),
      );
      expect(fileEntry(node, "/etc/patroni/probatio-server.key")).toMatchObject({ permissions: "0600", owner: "postgres:postgres" });
      const patroni = parse(node.files["/etc/patroni/config.yml"]);
      expect(patroni.postgresql.parameters).toMatchObject({
        ssl: "on",
        ssl_cert_file: "/etc/patroni/probatio-server.crt",
        ssl_key_file: "/etc/patroni/probatio-server.key",
        ssl_min_protocol_version: "TLSv1.3",
      });
      for (const user of ["replication", "rewind"])
        expect(patroni.postgresql.authentication[user]).toMatchObject({ sslmode: "verify-ca", sslrootcert: DATABASE_CA_FILE });
      // Only loopback may connect without TLS.
      const network = (patroni.postgresql.pg_hba as string[]).filter((l) => /^host/.test(l) && !/ 127\.0\.0\.1\/32 /.test(l));
      expect(network.filter((l) => !/ (reject|::\/0|0\.0\.0\.0\/0)/.test(l) && !l.startsWith("hostssl"))).toEqual([]);
      expect(network.some((l) => l.startsWith("hostssl replication"))).toBe(true);
    }
    expect(certs.size).toBe(3);
  });
});

test("ProbatioVault phase 0 (dev): PostgreSQL on the application's own machine, over loopback: no CA rendered", async () => {
  const r = await renderPhase({ roadmap: "probatio", phase: 0, stack: "dev", environment: "dev" });
  expect(r.machines.filter((m) => m.files[DATABASE_CA_FILE] || m.files[SERVER_CERT]).map((m) => m.machine)).toEqual([]);
});
