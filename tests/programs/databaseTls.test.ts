/**
 * PostgreSQL's TLS where the application reaches it across the public network (the classic VPS phases): the server
 * presents a certificate of the stack's database CA naming its address, the application verifies it (verify-full),
 * and everything is rendered the same on every run. Checked with the real openssl.
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

test.each([
  ["probatio", 2, "prod"],
  ["probatio", 0, "dev"],
] as const)("%s phase %i (%s): the connection stays on a private network or loopback, no CA rendered", async (roadmap, phase, stack) => {
  const r = await renderPhase({ roadmap, phase, stack, environment: stack === "dev" ? "dev" : undefined });
  expect(r.machines.filter((m) => m.files[DATABASE_CA_FILE] || m.files[SERVER_CERT]).map((m) => m.machine)).toEqual([]);
});
