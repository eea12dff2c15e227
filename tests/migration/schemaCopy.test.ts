import { Client } from "pg";
import { copySchema, tables } from "../../cli/migrations/pgConnection";
import { startReplication } from "../../cli/migrations/pgMove";
import { fill } from "../service/dataSet";
import { passwords, PgNode, startPrimary, stopAll } from "../service/pgCluster";

jest.setTimeout(300_000);

const admin = (n: PgNode) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${n.port}/app`;

async function sql(url: string, text: string): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

// Two real PostgreSQL 15 servers configured as probatio renders them. The source's schema ends with a table owned by
// a role the target lacks, so that copying it fails at its last statements, as a copy killed midway stops.
describe("the data step's schema copy lands whole or not at all", () => {
  const nodes: PgNode[] = [];
  let source: PgNode, target: PgNode;

  beforeAll(async () => {
    source = await startPrimary({ migrationPeers: ["127.0.0.1"] });
    target = await startPrimary({});
    nodes.push(source, target);
    await fill(`postgres://app:${passwords.app}@127.0.0.1:${source.port}/app`, 100);
    await sql(admin(source), "CREATE ROLE ghost; CREATE TABLE zz_ghost (id int PRIMARY KEY); ALTER TABLE zz_ghost OWNER TO ghost");
  });
  afterAll(() => stopAll(nodes));

  test("a copy that fails at its end leaves the target without any of the source's tables (was: documents, events, users)", async () => {
    await expect(copySchema(admin(source), admin(target))).rejects.toThrow(
      /copying the schema to the target failed: .*role "ghost" does not exist/,
    );
    const t = new Client({ connectionString: admin(target) });
    await t.connect();
    try {
      expect(await tables(t)).toEqual([]);
    } finally {
      await t.end();
    }
  });

  test("a target holding part of the source's schema is refused, naming the tables it lacks, before anything is created", async () => {
    await sql(admin(target), "CREATE TABLE documents (id bigint PRIMARY KEY)");
    await expect(startReplication({ source: admin(source), target: admin(target) })).rejects.toThrow(
      "the target has tables but not the source's events, users, zz_ghost: its schema is not the source's",
    );
    const s = new Client({ connectionString: admin(source) });
    await s.connect();
    try {
      expect((await s.query("SELECT pubname FROM pg_publication")).rows).toEqual([]);
    } finally {
      await s.end();
    }
  });
});
