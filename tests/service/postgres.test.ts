import { exec, psql, waitUntil } from "./daemons";
import { followPrimary, passwords, PgNode, serverLog, startPrimary, startStandby, stopAll } from "./pgCluster";

jest.setTimeout(120_000);

const app = { user: "app", password: passwords.app, db: "app" };

// Real PostgreSQL 15 (Debian) started from probatio's rendered postgresql.conf fragment, pg_hba.conf and bootstrap SQL.
describe("PostgreSQL primary + sync standby + async standby from the rendered configuration", () => {
  let primary: PgNode, s1: PgNode, s2: PgNode;
  beforeAll(async () => {
    primary = await startPrimary({ standbys: ["sync", "async"] });
    s1 = await startStandby(primary, 0);
    s2 = await startStandby(primary, 1);
    await waitUntil(
      async () => (await primary.admin("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")) === "2",
      30_000,
      "two streaming standbys",
    );
  });
  afterAll(async () => {
    await stopAll([s2, s1, primary]);
  });

  test("standby1 is synchronous and standby2 asynchronous; max_connections is the rendered 200", async () => {
    const rows = await primary.admin("SELECT application_name || ':' || sync_state FROM pg_stat_replication ORDER BY 1");
    expect(rows.split("\n")).toEqual(["standby1:sync", "standby2:async"]);
    expect(await primary.admin("SHOW max_connections")).toBe("200");
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

  test("a committed write is on the sync standby before the commit returns; with the sync standby down, commits wait", async () => {
    await psql(primary.port, "CREATE TABLE IF NOT EXISTS evidence (id serial primary key, body text not null)", app);
    const lsn = await psql(primary.port, "INSERT INTO evidence (body) VALUES ('signed-1'); SELECT pg_current_wal_insert_lsn()", app);
    // Received means flushed to the standby's disk: compared right after COMMIT returned.
    const flushed = await s1.admin(`SELECT pg_last_wal_receive_lsn() >= '${lsn.split("\n").pop()}'::pg_lsn`);
    expect(flushed).toBe("t");
    await waitUntil(async () => (await s1.admin("SELECT count(*) FROM evidence", "app")) === "1", 10_000, "replay on standby1");

    await s1.server.stop("fast");
    const pending = psql(primary.port, "INSERT INTO evidence (body) VALUES ('signed-2')", app);
    const settled = await Promise.race([pending.then(() => "returned"), new Promise((r) => setTimeout(() => r("waiting"), 2000))]);
    expect(settled).toBe("waiting");
    await s1.server.start();
    await pending;
    await waitUntil(async () => (await s1.admin("SELECT count(*) FROM evidence", "app")) === "2", 20_000, "standby1 catches up");
  });

  test("promoting the sync standby works and the async standby follows the new primary", async () => {
    await waitUntil(
      async () => (await primary.admin("SELECT count(*) FROM pg_stat_replication WHERE replay_lsn = pg_current_wal_lsn()")) === "2",
      20_000,
      "both standbys caught up",
    );
    await primary.server.stop("fast");
    expect(await s1.admin("SELECT pg_promote(true, 30)")).toBe("t");
    expect(await s1.admin("SELECT pg_is_in_recovery()")).toBe("f");
    await s1.admin("SELECT pg_create_physical_replication_slot('standby2')");
    followPrimary(s2, s1.port, "standby2");
    await s2.admin("SELECT pg_reload_conf()");
    await psql(s1.port, "INSERT INTO evidence (body) VALUES ('after-promotion')", app);
    await waitUntil(
      async () => (await s2.admin("SELECT count(*) FROM evidence WHERE body = 'after-promotion'", "app")) === "1",
      30_000,
      `standby2 following the new primary\n${serverLog(s2)}`,
    );
    expect(await s2.admin("SELECT count(*) FROM evidence", "app")).toBe("3");
  });
});

test("psql is the Debian client of PostgreSQL 15", async () => {
  const { stdout } = await exec("psql", ["--version"]);
  expect(stdout).toMatch(/PostgreSQL\) 15\./);
});
