import { execFileSync } from "child_process";
import { rmSync } from "fs";
import { join } from "path";
import { Client } from "pg";
import { parse } from "yaml";
import { COMPOSE_FILE, COMPOSE_PG_HBA, COMPOSE_PG_TLS_DIR, composeBundle } from "../../components/config/compose";
import * as pgMove from "../../cli/migrations/pgMove";
import { fill } from "../service/dataSet";
import { daemonDir, freePort, PG_BIN, runAsDaemonUser, writeOwned } from "../service/daemons";
import { passwords, PgNode, startPrimary, stopAll } from "../service/pgCluster";

jest.setTimeout(300_000);

const PASSWORD = "Compose-Db-Passw0rd";
const ROWS = 4_000;
const settings = {
  domain: "api.koprogo.example",
  acmeEmail: "ops@koprogo.example",
  backendImage: "registry.example.com/koprogo/backend:1.0.0",
  backendPort: 8080,
  traefikMetrics: false,
  postgres: { version: 15, maxConnections: 100, password: PASSWORD },
};

// KoproGo's Compose PostgreSQL as the source of a migration's data step. The official postgres:15 image cannot run
// here (no container engine): Debian's PostgreSQL 15 is its STAND-IN, started with exactly the server arguments of the
// rendered Compose file, its rendered pg_hba.conf, and a key pair made by the rendered first-boot command (paths mapped
// as the Compose file's volumes map them). The data step replicates it over TLS into a target PostgreSQL as probatio
// renders it.
describe("KoproGo's Compose PostgreSQL (STAND-IN) replicates into the next phase's database over TLS", () => {
  let dir: string;
  let port: number;
  let target: PgNode;
  const bundle = composeBundle({ ...settings, migrationPeers: ["127.0.0.1"] });
  const file = (path: string) => bundle.files.find((f) => f.path === path)!.content;
  const compose = parse(file(COMPOSE_FILE));
  const source = () => `postgres://koprogo:${PASSWORD}@127.0.0.1:${port}/koprogo_db`;

  beforeAll(async () => {
    dir = daemonDir("pg-compose");
    port = await freePort();
    const data = join(dir, "data");
    // As the image's entrypoint does: POSTGRES_USER koprogo (the superuser), POSTGRES_DB koprogo_db.
    writeOwned(join(dir, "pwfile"), PASSWORD + "\n");
    await runAsDaemonUser(`${PG_BIN}/initdb`, ["-D", data, "-U", "koprogo", "--auth=scram-sha-256", `--pwfile=${join(dir, "pwfile")}`]);
    const mapped = (s: string) => s.split(COMPOSE_PG_TLS_DIR).join(join(dir, "tls")).split(COMPOSE_PG_HBA).join(join(dir, "pg_hba.conf"));
    writeOwned(join(dir, "pg_hba.conf"), file(COMPOSE_PG_HBA), 0o644);
    // The rendered first-boot command that makes the key pair (the image's postgres user is this machine's postgres).
    const keyPair = bundle.commands.find((c) => c.includes("openssl req"))!;
    execFileSync("sh", ["-c", mapped(keyPair).replace(/chown 999:999/g, "chown postgres:postgres")], { stdio: "pipe" });
    const args = (compose.services.postgres.command as string[]).slice(1).map(mapped);
    const options = [...args, "-c", `port=${port}`, "-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${dir}`];
    await runAsDaemonUser(`${PG_BIN}/pg_ctl`, ["-D", data, "-l", join(dir, "server.log"), "-w", "-o", options.join(" "), "start"]);
    const c = new Client({ connectionString: source().replace(/koprogo_db$/, "postgres") });
    await c.connect();
    await c.query("CREATE DATABASE koprogo_db");
    await c.end();
    await fill(source(), ROWS);
    target = await startPrimary({});
    // The next phase's database has KoproGo's application role (its Compose or Helm chart makes it): it owns the copy.
    const t = new Client({ connectionString: `postgres://postgres:${passwords.superuser}@127.0.0.1:${target.port}/app` });
    await t.connect();
    await t.query("CREATE ROLE koprogo LOGIN");
    await t.end();
  });
  afterAll(async () => {
    await runAsDaemonUser(`${PG_BIN}/pg_ctl`, ["-D", join(dir, "data"), "-m", "fast", "-w", "stop"]).catch(() => undefined);
    await stopAll([target]);
    rmSync(dir, { recursive: true, force: true });
  });

  test("published on the VPS only while a migration runs; the migration's role let in from the target's address, TLS only", () => {
    expect(compose.services.postgres.ports).toEqual(["5432:5432"]);
    expect(file(COMPOSE_PG_HBA)).toContain("hostssl koprogo_db      probatio_migration 127.0.0.1/32");
    expect(file(COMPOSE_PG_HBA)).toMatch(/host\s+all\s+all\s+0\.0\.0\.0\/0\s+reject\n/);
    const quiet = composeBundle({ ...settings, migrationPeers: [] });
    expect(parse(quiet.files.find((f) => f.path === COMPOSE_FILE)!.content).services.postgres.ports).toEqual(["127.0.0.1:5432:5432"]);
    expect(quiet.files.find((f) => f.path === COMPOSE_PG_HBA)!.content).not.toContain("probatio_migration");
  });

  test("the server runs with the Compose file's arguments: logical WAL, TLS on", async () => {
    const c = new Client({ connectionString: source() });
    await c.connect();
    expect((await c.query("SHOW wal_level")).rows[0].wal_level).toBe("logical");
    expect((await c.query("SHOW ssl")).rows[0].ssl).toBe("on");
    await c.end();
  });

  test("the data step copies every row over TLS, then streams; the subscription's connection is encrypted", async () => {
    const o = {
      source: source(),
      target: `postgres://postgres:${passwords.superuser}@127.0.0.1:${target.port}/app`,
      // How the target reaches the VPS: its address, TLS required (the server's certificate is self-signed).
      sourceFromTarget: `postgres://127.0.0.1:${port}/koprogo_db?sslmode=require`,
    };
    await pgMove.startReplication(o);
    await pgMove.waitForSync(o, 1024 * 1024, () => undefined);
    const s = new Client({ connectionString: source() });
    await s.connect();
    const ssl = await s.query("SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'probatio_migration'");
    expect(ssl.rows.length).toBeGreaterThan(0);
    expect(ssl.rows.every((r) => r.ssl === true)).toBe(true);
    await s.query(
      "INSERT INTO documents (owner_id, title, body, sha256) SELECT owner_id, title || ' (later)', body, sha256 FROM documents LIMIT 5",
    );
    await s.end();
    const t = new Client({ connectionString: o.target });
    await t.connect();
    const count = async () => (await t.query("SELECT count(*)::int AS n FROM documents")).rows[0].n;
    const t0 = Date.now();
    while ((await count()) !== ROWS + 5 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 200));
    expect(await count()).toBe(ROWS + 5);
    await t.end();
    await pgMove.rollback(o);
  });
});
