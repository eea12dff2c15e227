/**
 * Debian's PostgreSQL 15 with the certificate probatio renders for a classic VPS database: psql (libpq) and the
 * application's client (node-postgres, given the DATABASE_URL probatio renders) verify it against the stack's CA,
 * libpq's SCRAM channel binding included (what pg_dump and a logical subscription use by default); a client trusting
 * another stack's CA, or one without TLS, is refused.
 */
import { appendFileSync } from "fs";
import { join } from "path";
import { Client } from "pg";
import { databaseCaCert, databaseServerCert } from "../../components/config/databaseTls";
import { renderPostgresConf } from "../../components/config/postgres";
import { daemonDir, exec, freePort, PG_BIN, pgServer, PgServer, runAsDaemonUser, writeOwned } from "./daemons";

jest.setTimeout(120_000);

const SECRET = "the-stack-postgres-tls-derivation";
const PASSWORD = "app-password";

describe("PostgreSQL with the stack's database certificate", () => {
  let server: PgServer;
  let dir: string;
  let caFile: string;
  beforeAll(async () => {
    dir = daemonDir("pg-tls");
    const port = await freePort();
    const data = join(dir, "data");
    writeOwned(join(dir, "pwfile"), PASSWORD + "\n");
    await runAsDaemonUser(`${PG_BIN}/initdb`, ["-D", data, "-U", "postgres", "--auth=scram-sha-256", `--pwfile=${join(dir, "pwfile")}`]);
    const tls = await databaseServerCert(SECRET, "prod", "prod-database-1", ["127.0.0.1"]);
    writeOwned(join(data, "server.crt"), tls.cert, 0o644);
    writeOwned(join(data, "server.key"), tls.key, 0o600);
    caFile = join(dir, "ca.crt");
    writeOwned(caFile, await databaseCaCert(SECRET, "prod"), 0o644);
    // The rendered settings, with this test's port, address and socket.
    const conf = renderPostgresConf({
      listenAddresses: "127.0.0.1",
      port,
      maxConnections: 20,
      sharedBuffers: "32MB",
      tls: { cert: join(data, "server.crt"), key: join(data, "server.key") },
    });
    writeOwned(join(data, "probatio.conf"), `${conf}unix_socket_directories = '${dir}'\n`, 0o644);
    appendFileSync(join(data, "postgresql.conf"), "\ninclude 'probatio.conf'\n");
    // TLS only over TCP, as pg_hba renders it for a public address.
    writeOwned(join(data, "pg_hba.conf"), "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256\n");
    server = pgServer(data, port);
    await server.start();
  });
  afterAll(async () => {
    await server?.stop("immediate");
    await exec("rm", ["-rf", dir]);
  });

  const psql = (conninfo: string) =>
    exec("psql", ["-X", "-A", "-t", "-c", "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()", conninfo], {
      env: { ...process.env, PGPASSWORD: PASSWORD, PGCONNECT_TIMEOUT: "5" },
    });
  const conninfo = (extra: string) => `host=127.0.0.1 port=${server.port} user=postgres dbname=postgres ${extra}`;

  test("libpq verifies it (verify-full) with SCRAM channel binding required, over TLS 1.3", async () => {
    const r = await psql(conninfo(`sslmode=verify-full sslrootcert=${caFile} channel_binding=require`));
    expect(r.stdout.trim()).toBe("t|TLSv1.3");
  });

  test("the application's client verifies it from the DATABASE_URL probatio renders", async () => {
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${server.port}/postgres?sslmode=verify-full&sslrootcert=${caFile}`;
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await client.end();
    }
  });

  test("a client trusting another stack's CA is refused, and so is one without TLS", async () => {
    const other = join(dir, "other-ca.crt");
    writeOwned(other, await databaseCaCert("another-stack's-secret", "prod"), 0o644);
    await expect(psql(conninfo(`sslmode=verify-full sslrootcert=${other}`))).rejects.toThrow(/certificate verify failed/);
    await expect(psql(conninfo("sslmode=disable"))).rejects.toThrow(/no pg_hba.conf entry for host "127.0.0.1"/);
  });
});
