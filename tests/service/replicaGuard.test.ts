import { Client } from "pg";
import { cutover, rollback, startReplication, waitForSync } from "../../cli/migrations/pgMove";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { fill } from "./dataSet";
import { passwords, PgNode, startPrimary, startStandby, stopAll } from "./pgCluster";
import { waitUntil } from "./daemons";

jest.setTimeout(180_000);

async function query(url: string, sql: string): Promise<unknown[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

// What the read shift relies on: until the switch, the application's role can read on the target but not write,
// while the replication keeps applying the source's changes there; the switch lifts it.
describe("the target is a read-only replica for the application until the switch (real PostgreSQL 15, two servers)", () => {
  let source: PgNode, target: PgNode;
  const admin = (n: PgNode) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${n.port}/app`;
  const app = (n: PgNode) => `postgres://app:${passwords.app}@127.0.0.1:${n.port}/app`;
  beforeAll(async () => {
    source = await startPrimary({ migrationPeers: ["127.0.0.1"] });
    target = await startPrimary({});
    await fill(app(source), 2_000);
  });
  afterAll(async () => stopAll([source, target]));

  test("the application reads on the target, cannot write there, sees the source's writes; after the switch it writes", async () => {
    const urls = { source: admin(source), target: admin(target) };
    await startReplication(urls);
    await waitForSync(urls, 0);
    expect(await query(app(target), "SELECT count(*)::int AS n FROM documents")).toEqual([{ n: 2_000 }]);
    await expect(query(app(target), "INSERT INTO users (email) VALUES ('early@example.org')")).rejects.toThrow(
      "cannot execute INSERT in a read-only transaction",
    );
    await query(app(source), "INSERT INTO users (email) VALUES ('late@example.org')");
    const late = async () =>
      ((await query(app(target), "SELECT count(*)::int AS n FROM users WHERE email = 'late@example.org'"))[0] as { n: number }).n;
    await waitUntil(async () => (await late()) === 1, 20_000, "the source's write on the target");
    const r = await cutover(urls);
    expect(r.checks.every((c) => c.equal)).toBe(true);
    await query(app(target), "INSERT INTO users (email) VALUES ('after@example.org')");
    expect(await query(app(target), "SELECT count(*)::int AS n FROM users")).toEqual([{ n: 50_002 }]);
    await expect(query(app(source), "INSERT INTO users (email) VALUES ('stale@example.org')")).rejects.toThrow("read-only transaction");
  });

  test("replicating again into a target that already holds rows is refused, not left to stall on duplicate keys", async () => {
    const err = await startReplication({ source: admin(source), target: admin(target) }).catch((e) => e);
    expect(err).toBeInstanceOf(ProbatioError);
    expect(err.exitCode).toBe(ExitCode.refused);
    expect(err.message).toBe(
      "the target already holds rows (documents, events, users) and no replication is running: copying again would collide with them",
    );
    expect(await query(admin(target), "SELECT count(*)::int AS n FROM pg_subscription")).toEqual([{ n: 0 }]);
  });
});

// Where PostgreSQL fails over by itself (Patroni, phases 2-3) the leader moves, and PostgreSQL 15 keeps a logical slot
// on the server that created it. The data step must notice both, with what to do, and its rollback must still work.
describe("the data step and a source that fails over (real PostgreSQL 15: a primary, its standby, a target)", () => {
  let source: PgNode, standby: PgNode, target: PgNode;
  const admin = (n: PgNode) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${n.port}/app`;
  const app = (n: PgNode) => `postgres://app:${passwords.app}@127.0.0.1:${n.port}/app`;
  beforeAll(async () => {
    source = await startPrimary({ migrationPeers: ["127.0.0.1"] });
    standby = await startStandby(source);
    target = await startPrimary({});
    await fill(app(source), 500);
  });
  afterAll(async () => stopAll([standby, source, target]));

  test("a URL that leads to a standby is refused before anything changes, naming how to find the leader", async () => {
    const err = await startReplication({ source: admin(standby), target: admin(target) }).catch((e) => e);
    expect(err).toBeInstanceOf(ProbatioError);
    expect(err.exitCode).toBe(ExitCode.refused);
    expect(err.message).toBe(
      `the source database at postgres://postgres:***@127.0.0.1:${standby.port}/app is a standby (read-only); the data step needs the primary`,
    );
    expect(err.hint).toContain("patronictl -c /etc/patroni/config.yml list");
    expect(await query(admin(target), "SELECT count(*)::int AS n FROM pg_class WHERE relname = 'documents'")).toEqual([{ n: 0 }]);
  });

  test("the source's slot gone (a failover): progress says so and how to start over; rollback still ends the subscription", async () => {
    const urls = { source: admin(source), target: admin(target) };
    await startReplication(urls);
    await waitForSync(urls, 0);
    // What a failover leaves: a leader without the slot (the walsender ended, the slot dropped with it).
    await query(admin(target), "ALTER SUBSCRIPTION probatio_migration DISABLE");
    const active = async () =>
      (
        (await query(
          admin(source),
          "SELECT count(*)::int AS n FROM pg_replication_slots WHERE slot_name = 'probatio_migration' AND active",
        )) as {
          n: number;
        }[]
      )[0].n;
    await waitUntil(async () => (await active()) === 0, 20_000, "the subscription's walsender gone");
    await query(admin(source), "SELECT pg_drop_replication_slot('probatio_migration')");
    const err = await waitForSync(urls, 0).catch((e) => e);
    expect(err).toBeInstanceOf(ProbatioError);
    expect(err.message).toContain("the source has no replication slot 'probatio_migration' although the target subscribes to it");
    expect(err.hint).toContain("probatio data rollback");
    await rollback(urls);
    expect(await query(admin(target), "SELECT count(*)::int AS n FROM pg_subscription")).toEqual([{ n: 0 }]);
    expect(await query(admin(source), "SELECT count(*)::int AS n FROM pg_publication")).toEqual([{ n: 0 }]);
    expect(await query(admin(source), "SELECT count(*)::int AS n FROM pg_roles WHERE rolname = 'probatio_migration'")).toEqual([{ n: 0 }]);
  });
});
