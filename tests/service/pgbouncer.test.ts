import { join } from "path";
import { renderPgBouncerIni, renderPgBouncerUserlist } from "../../components/config/postgres";
import { freePort, psql, spawnAsDaemonUser, stopProcess, waitUntil, writeOwned } from "./daemons";
import { passwords, PgNode, startPrimary, stopAll } from "./pgCluster";
import { ChildProcess } from "child_process";

jest.setTimeout(120_000);

describe("pgBouncer from the rendered configuration pools connections to the primary", () => {
  let primary: PgNode;
  let bouncer: ChildProcess;
  let port: number;
  const poolSize = 5;
  beforeAll(async () => {
    primary = await startPrimary({});
    port = await freePort();
    writeOwned(join(primary.dir, "userlist.txt"), renderPgBouncerUserlist([{ name: "app", password: passwords.app }]));
    writeOwned(
      join(primary.dir, "pgbouncer.ini"),
      renderPgBouncerIni({
        listenAddress: "127.0.0.1",
        listenPort: port,
        databaseName: "app",
        backendHost: "127.0.0.1",
        backendPort: primary.port,
        poolSize,
        maxClientConnections: 200,
        authFile: join(primary.dir, "userlist.txt"),
      }) + `unix_socket_dir = ${primary.dir}\n`,
    );
    bouncer = spawnAsDaemonUser("/usr/sbin/pgbouncer", [join(primary.dir, "pgbouncer.ini")]);
    await waitUntil(
      async () => (await psql(port, "SELECT 1", { user: "app", password: passwords.app, db: "app" })) === "1",
      20_000,
      "pgbouncer",
    );
  });
  afterAll(async () => {
    await stopProcess(bouncer);
    await stopAll([primary]);
  });

  test(`40 concurrent clients are served through at most ${poolSize} server connections (transaction pooling)`, async () => {
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const n = Number(
          await primary.admin("SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' AND backend_type = 'client backend'"),
        );
        peak = Math.max(peak, n);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        psql(port, `SELECT ${i} FROM pg_sleep(0.2)`, { user: "app", password: passwords.app, db: "app" }),
      ),
    );
    sampling = false;
    await sampler;
    expect(results).toEqual(Array.from({ length: 40 }, (_, i) => String(i)));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(poolSize);
  });

  test("a wrong password is refused by pgBouncer", async () => {
    await expect(psql(port, "SELECT 1", { user: "app", password: "nope", db: "app" })).rejects.toThrow(
      /password authentication failed|SASL authentication failed/,
    );
  });
});
