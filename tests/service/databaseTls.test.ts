/**
 * Debian's PostgreSQL 15 with the certificate probatio renders for a classic VPS database: psql (libpq) and the
 * application's client (node-postgres, given the DATABASE_URL probatio renders) verify it against the stack's CA,
 * libpq's SCRAM channel binding included (what pg_dump and a logical subscription use by default); a client trusting
 * another stack's CA, or one without TLS, is refused. Then pgBouncer in front of it as phases 2-3 render it: the
 * application verifies pgBouncer's certificate, pgBouncer the server's (verify-ca), both legs on TLS.
 */
import { appendFileSync } from "fs";
import { join } from "path";
import { Client } from "pg";
import { databaseCaCert, databaseServerCert } from "../../components/config/databaseTls";
import { renderPgBouncerIni, renderPgBouncerUserlist, renderPostgresConf } from "../../components/config/postgres";
import { ChildProcess } from "child_process";
import {
  daemonDir,
  exec,
  freePort,
  PG_BIN,
  pgServer,
  PgServer,
  runAsDaemonUser,
  spawnAsDaemonUser,
  stopProcess,
  waitUntil,
  writeOwned,
} from "./daemons";

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

  describe("pgBouncer in front, TLS both ways (phases 2-3)", () => {
    const bouncers: ChildProcess[] = [];
    /** pgBouncer from the rendered configuration, its own certificate, trusting `serverCa` for the server. */
    async function startBouncer(name: string, serverCa: string): Promise<number> {
      const port = await freePort();
      const own = await databaseServerCert(SECRET, "prod", "prod-pgbouncer-1", ["127.0.0.1"]);
      const file = (f: string) => join(dir, `${name}-${f}`);
      writeOwned(file("server.crt"), own.cert, 0o644);
      writeOwned(file("server.key"), own.key, 0o600);
      writeOwned(file("server-ca.crt"), serverCa, 0o644);
      writeOwned(file("userlist.txt"), renderPgBouncerUserlist([{ name: "postgres", password: PASSWORD }]));
      const ini = renderPgBouncerIni({
        listenAddress: "127.0.0.1",
        listenPort: port,
        databaseName: "postgres",
        backendHost: "127.0.0.1",
        backendPort: server.port,
        poolSize: 2,
        maxClientConnections: 20,
        authFile: file("userlist.txt"),
        serverLoginRetrySeconds: 1,
        clientTls: { cert: file("server.crt"), key: file("server.key") },
        serverTlsCaFile: file("server-ca.crt"),
      });
      writeOwned(file("pgbouncer.ini"), `${ini}unix_socket_dir = ${dir}\nlogfile = ${file("pgbouncer.log")}\n`, 0o644);
      const p = spawnAsDaemonUser("/usr/sbin/pgbouncer", [file("pgbouncer.ini")]);
      bouncers.push(p);
      await waitUntil(
        async () =>
          await exec("pg_isready", ["-h", "127.0.0.1", "-p", String(port)]).then(
            () => true,
            () => false,
          ),
        20_000,
        name,
      );
      return port;
    }
    afterAll(async () => {
      for (const b of bouncers) await stopProcess(b);
    });

    test("the application verifies pgBouncer (verify-full, the DATABASE_URL probatio renders), and pgBouncer's own connection to PostgreSQL is TLS 1.3", async () => {
      const port = await startBouncer("stack", await databaseCaCert(SECRET, "prod"));
      const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres?sslmode=verify-full&sslrootcert=${caFile}`;
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        // Asked of the server: the backend serving pgBouncer's pooled connection.
        const { rows } = await client.query("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
        expect(rows).toEqual([{ ssl: true, version: "TLSv1.3" }]);
      } finally {
        await client.end();
      }
      // And the client's leg: pgBouncer takes TLS only.
      await expect(
        exec("psql", ["-X", "-At", "-c", "SELECT 1", `host=127.0.0.1 port=${port} user=postgres dbname=postgres sslmode=disable`], {
          env: { ...process.env, PGPASSWORD: PASSWORD, PGCONNECT_TIMEOUT: "5" },
        }),
      ).rejects.toThrow(/SSL required/);
    });

    test("a pgBouncer trusting another CA never logs in to the server: the application's query fails, and pgBouncer says why", async () => {
      const port = await startBouncer("other", await databaseCaCert("another-stack's-secret", "prod"));
      const client = new Client({
        connectionString: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/postgres?sslmode=verify-full&sslrootcert=${caFile}`,
        connectionTimeoutMillis: 10_000,
        query_timeout: 10_000,
      });
      const attempt = client.connect().then(() => client.query("SELECT 1"));
      await expect(attempt).rejects.toThrow();
      await client.end().catch(() => undefined);
      const log = (await exec("cat", [join(dir, "other-pgbouncer.log")])).stdout;
      expect(log).toMatch(/certificate verify failed/);
    });
  });
});
