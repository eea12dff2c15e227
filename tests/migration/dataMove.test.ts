import { spawn } from "child_process";
import { Client } from "pg";
import { join } from "path";
import { fill, Writer } from "../service/dataSet";
import { passwords, PgNode, startPrimary, stopAll } from "../service/pgCluster";
import { waitUntil } from "../service/daemons";

jest.setTimeout(900_000);

const cli = join(__dirname, "..", "..", "..", "bin", "probatio");
const DOCUMENTS = Number(process.env.PROBATIO_MIGRATION_DOCUMENTS ?? 1_150_000);

function runData(env: NodeJS.ProcessEnv, ...args: string[]) {
  const child = spawn(process.execPath, [cli, "data", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

async function one(url: string, sql: string): Promise<string> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(sql);
    return String(Object.values(r.rows[0] ?? {})[0]);
  } finally {
    await c.end();
  }
}

// Two real PostgreSQL 15 servers from the rendered configuration; about 1 GB over three tables; writes continue
// during the copy; the data step is SIGKILLed in the middle of the copy and resumed.
describe("the migration data step moves a 1 GB database by logical replication, killed and resumed, nothing lost", () => {
  let source: PgNode, target: PgNode;
  let env: NodeJS.ProcessEnv;
  const admin = (n: PgNode) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${n.port}/app`;
  const app = (n: PgNode) => `postgres://app:${passwords.app}@127.0.0.1:${n.port}/app`;

  beforeAll(async () => {
    source = await startPrimary({ migrationPeers: ["127.0.0.1"], sharedBuffers: "256MB" });
    target = await startPrimary({ sharedBuffers: "256MB" });
    await fill(app(source), DOCUMENTS);
    env = { PROBATIO_SOURCE_DB: admin(source), PROBATIO_TARGET_DB: admin(target) };
  });
  afterAll(async () => stopAll([source, target]));

  test("the data set is realistic: at least 1 GB over several tables", async () => {
    const bytes = Number(await one(admin(source), "SELECT pg_database_size('app')"));
    expect(bytes).toBeGreaterThanOrEqual(1024 ** 3);
    expect(Number(await one(admin(source), "SELECT count(*) FROM documents"))).toBe(DOCUMENTS);
  });

  test("replicate (SIGKILLed mid-copy, then resumed), cutover with writes running: identical data, nothing lost or duplicated", async () => {
    const writer = new Writer(app(source));
    writer.start();

    const first = runData(env, "replicate");
    // 'd': a table's rows are being copied right now.
    await waitUntil(
      async () => Number(await one(admin(target), "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'd'").catch(() => "0")) > 0,
      300_000,
      "the copy to start",
      100,
    );
    first.child.kill("SIGKILL");
    const killed = await first.done;
    expect(killed.signal).toBe("SIGKILL");
    const copiedWhenKilled = Number(await one(admin(target), "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate = 'r'"));
    const tablesTotal = Number(await one(admin(target), "SELECT count(*) FROM pg_subscription_rel"));
    expect(copiedWhenKilled).toBeLessThan(tablesTotal);

    const resumed = await runData(env, "replicate", "--json").done;
    expect(resumed.stderr).toBe("");
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ tables: 3, tablesReady: 3 });
    expect(writer.acknowledged.length).toBeGreaterThan(0);

    const cut = await runData(env, "cutover", "--json").done;
    expect(cut.code).toBe(0);
    const result = JSON.parse(cut.stdout);
    expect(result.tables.map((t: { table: string; equal: boolean }) => [t.table, t.equal])).toEqual([
      ["documents", true],
      ["events", true],
      ["users", true],
    ]);
    await writer.finished();

    // Independent check: every acknowledged write is on the target, once; the source refuses writes.
    const written = writer.acknowledged;
    const onTarget = Number(await one(admin(target), `SELECT count(*) FROM events WHERE id = ANY('{${written.join(",")}}'::bigint[])`));
    expect(onTarget).toBe(written.length);
    expect(await one(admin(target), "SELECT count(*) = count(DISTINCT id) FROM events")).toBe("true");
    for (const t of ["users", "documents", "events"]) {
      expect(await one(admin(target), `SELECT count(*) FROM ${t}`)).toBe(await one(admin(source), `SELECT count(*) FROM ${t}`));
    }
    await expect(one(app(source), "INSERT INTO events (document_id, kind) VALUES (1, 'late') RETURNING id")).rejects.toThrow(
      /read-only transaction/,
    );
    // The target takes writes, and its sequences continue after the source's.
    const maxId = Number(await one(admin(source), "SELECT max(id) FROM events"));
    const newId = Number(await one(app(target), "INSERT INTO events (document_id, kind) VALUES (1, 'after-cutover') RETURNING id"));
    expect(newId).toBeGreaterThan(maxId);
  });
});
