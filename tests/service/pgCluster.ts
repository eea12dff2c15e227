/**
 * A lone PostgreSQL primary built from probatio's rendered configuration (postgresql.conf fragment, pg_hba.conf,
 * bootstrap SQL) on free loopback ports. Test-only settings (socket directory, port) go to a separate local.conf so
 * the rendered files are used as they are.
 */
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { renderPostgresConf } from "../../components/config/postgres";
import { postgresNodeBundle } from "../../components/config/postgresNode";
import { daemonDir, freePort, PG_BIN, pgServer, PgServer, runAsDaemonUser, writeOwned } from "./daemons";

export const passwords = { superuser: "Su-p3r-secret", app: "App-p4ss-word", replication: "Repl-s3cret-x" };

export interface PgNode {
  readonly name: string;
  readonly dir: string;
  readonly data: string;
  readonly port: number;
  readonly server: PgServer;
  /** SQL as the postgres OS user over the local socket (the rendered `local all postgres peer` line). */
  admin(sql: string, db?: string): Promise<string>;
}

function nodeSettings(maxConnections: number, migrationPeers?: string[]) {
  return postgresNodeBundle({
    version: 15,
    stanza: "test",
    pgData: "/unused",
    confDir: "/unused",
    database: "app",
    appUser: "app",
    maxConnections,
    sharedBuffers: "128MB",
    allowedCidrs: ["127.0.0.1/32"],
    backup: { cron: "0 3 * * *", retentionDays: 30 },
    passwords,
    s3: { bucket: "b", endpoint: "e", region: "r", key: "k", secret: "s" },
    migrationPeers,
  });
}

function file(bundle: ReturnType<typeof postgresNodeBundle>, suffix: string): string {
  const f = bundle.files.find((x) => x.path.endsWith(suffix));
  if (!f) throw new Error(`bundle has no ${suffix}`);
  return f.content;
}

function makeNode(name: string, dir: string, port: number): PgNode {
  const data = join(dir, "data");
  return {
    name,
    dir,
    data,
    port,
    server: pgServer(data, port),
    admin: async (sql, db = "postgres") =>
      (
        await runAsDaemonUser("psql", [
          "-X",
          "-A",
          "-t",
          "-v",
          "ON_ERROR_STOP=1",
          "-h",
          dir,
          "-p",
          String(port),
          "-U",
          "postgres",
          "-d",
          db,
          "-c",
          sql,
        ])
      ).stdout.trim(),
  };
}

function writeLocalConf(node: PgNode): void {
  writeOwned(
    join(node.data, "local.conf"),
    `port = ${node.port}\nunix_socket_directories = '${node.dir}'\nlisten_addresses = '127.0.0.1'\nlogging_collector = off\n`,
    0o644,
  );
}

export async function startPrimary(opts: {
  maxConnections?: number;
  /** Where a migration's target connects from (the rendered pg_hba lets the migration's role in from there). */
  migrationPeers?: string[];
  sharedBuffers?: string;
}): Promise<PgNode> {
  const dir = daemonDir("pg-primary");
  const node = makeNode("primary", dir, await freePort());
  writeOwned(join(dir, "pwfile"), passwords.superuser + "\n");
  await runAsDaemonUser(`${PG_BIN}/initdb`, [
    "-D",
    node.data,
    "-U",
    "postgres",
    "--auth=scram-sha-256",
    `--pwfile=${join(dir, "pwfile")}`,
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
  ]);
  const bundle = nodeSettings(opts.maxConnections ?? 200, opts.migrationPeers);
  // The rendered postgresql.conf fragment, with the port and listen address of this test.
  writeOwned(
    join(node.data, "probatio.conf"),
    renderPostgresConf({
      listenAddresses: "127.0.0.1",
      port: node.port,
      maxConnections: opts.maxConnections ?? 200,
      sharedBuffers: opts.sharedBuffers ?? "128MB",
    }),
    0o644,
  );
  writeLocalConf(node);
  appendFileSync(join(node.data, "postgresql.conf"), "\ninclude 'probatio.conf'\ninclude_if_exists 'local.conf'\n");
  // The rendered pg_hba.conf, as it is.
  writeOwned(join(node.data, "pg_hba.conf"), file(bundle, "pg_hba.conf"));
  await node.server.start();
  writeOwned(join(dir, "bootstrap.sql"), file(bundle, "pg-bootstrap.sql"));
  await runAsDaemonUser("psql", [
    "-X",
    "-q",
    "-v",
    "ON_ERROR_STOP=1",
    "-h",
    dir,
    "-p",
    String(node.port),
    "-U",
    "postgres",
    "-f",
    join(dir, "bootstrap.sql"),
  ]);
  return node;
}

/**
 * A streaming standby of `primary`, set up by pg_basebackup's own -R (not a configuration probatio renders: the
 * clusters with standbys are Patroni's); for what a client of a standby must see.
 */
export async function startStandby(primary: PgNode): Promise<PgNode> {
  const dir = daemonDir("pg-standby");
  const node = makeNode("standby", dir, await freePort());
  writeOwned(join(dir, "pgpass"), `127.0.0.1:*:*:replicator:${passwords.replication}\n`);
  await runAsDaemonUser(
    `${PG_BIN}/pg_basebackup`,
    [
      "-h",
      "127.0.0.1",
      "-p",
      String(primary.port),
      "-U",
      "replicator",
      "-D",
      node.data,
      "-X",
      "stream",
      "-R",
      "-d",
      `passfile=${join(dir, "pgpass")}`,
    ],
    { PGPASSFILE: join(dir, "pgpass") },
  );
  writeLocalConf(node);
  await node.server.start();
  return node;
}

/** Stops the servers and removes their directories (a 1 GB test must not leave its data on the disk). */
export async function stopAll(nodes: (PgNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.server.stop("immediate")));
  for (const n of nodes) if (n) rmSync(n.dir, { recursive: true, force: true });
}

export function serverLog(node: PgNode): string {
  try {
    return readFileSync(join(node.data, "server.log"), "utf8").slice(-3000);
  } catch {
    return "";
  }
}

export { writeFileSync };
