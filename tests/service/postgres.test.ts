import { exec, psql } from "./daemons";
import { passwords, PgNode, startPrimary, stopAll } from "./pgCluster";

jest.setTimeout(120_000);

const app = { user: "app", password: passwords.app, db: "app" };

// Real PostgreSQL 15 (Debian) started from probatio's rendered postgresql.conf fragment, pg_hba.conf and bootstrap SQL
// of a lone primary (phases 0-1). A cluster with standbys is Patroni's: its failover is proven on booted machines.
describe("a PostgreSQL primary from the rendered configuration", () => {
  let primary: PgNode;
  beforeAll(async () => {
    primary = await startPrimary({ maxConnections: 200 });
  });
  afterAll(async () => {
    await stopAll([primary]);
  });

  test("max_connections is the rendered 200, WAL is logical (a migration needs no restart)", async () => {
    expect(await primary.admin("SHOW max_connections")).toBe("200");
    expect(await primary.admin("SHOW wal_level")).toBe("logical");
  });

  test("pg_hba: the app user connects with its password over TCP; the superuser only from loopback (an SSH tunnel), with its password; wrong passwords are refused", async () => {
    expect(await psql(primary.port, "SELECT current_user", app)).toBe("app");
    await expect(psql(primary.port, "SELECT 1", { ...app, password: "wrong" })).rejects.toThrow(/password authentication failed/);
    expect(await psql(primary.port, "SELECT current_user", { user: "postgres", password: passwords.superuser, db: "app" })).toBe(
      "postgres",
    );
    await expect(psql(primary.port, "SELECT 1", { user: "postgres", password: "wrong", db: "app" })).rejects.toThrow(
      /password authentication failed/,
    );
    // Every other address: the superuser's only TCP line is loopback's, before the final rejects.
    const hba = (
      await primary.admin(
        "SELECT type || ' ' || array_to_string(database, ',') || ' ' || array_to_string(user_name, ',') || ' ' || coalesce(address, '') || ' ' || auth_method FROM pg_hba_file_rules WHERE 'postgres' = ANY(user_name) OR 'all' = ANY(user_name) ORDER BY line_number",
      )
    ).split("\n");
    expect(hba).toEqual([
      "local all postgres  peer",
      "local all all  scram-sha-256",
      "host all postgres 127.0.0.1 scram-sha-256",
      "host all all 0.0.0.0 reject",
      "host all all :: reject",
    ]);
  });
});

test("psql is the Debian client of PostgreSQL 15", async () => {
  const { stdout } = await exec("psql", ["--version"]);
  expect(stdout).toMatch(/PostgreSQL\) 15\./);
});
