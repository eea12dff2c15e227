import { Client } from "pg";
import { cutover, startReplication, waitForSync } from "../../cli/migrations/pgMove";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { fill } from "./dataSet";
import { passwords, PgNode, startPrimary, stopAll } from "./pgCluster";
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
    source = await startPrimary({ standbys: [], migrationPeers: ["127.0.0.1"] });
    target = await startPrimary({ standbys: [] });
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
