/** Connections to the source and target databases: clients, psql scripts, the tables that move. */
import { execFile } from "child_process";
import { Client } from "pg";
import { promisify } from "util";
import { ExitCode, ProbatioError } from "../../lib/errors";
import type { PgMoveOptions } from "./pgMove";

const exec = promisify(execFile);

export async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await c.connect();
  } catch (err) {
    throw new ProbatioError(
      `cannot connect to ${redact(url)}: ${(err as Error).message}`,
      "check the URL, the password and that this machine can reach the database",
      ExitCode.failure,
    );
  }
  return c;
}

export function redact(url: string): string {
  return url.replace(/:\/\/([^:@/]+):[^@]*@/, "://$1:***@");
}

export function conninfo(url: string): string {
  const u = new URL(url);
  const q = (v: string) => `'${decodeURIComponent(v).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const parts = [`host=${q(u.hostname)}`, `port=${u.port || "5432"}`, `dbname=${q(u.pathname.slice(1))}`, `user=${q(u.username)}`];
  if (u.password) parts.push(`password=${q(u.password)}`);
  const ssl = u.searchParams.get("sslmode");
  if (ssl) parts.push(`sslmode=${ssl}`);
  return parts.join(" ");
}

/**
 * The data step works on primaries. Where PostgreSQL fails over by itself (phases 2-3), the leader moves: a URL (or
 * an SSH tunnel) that leads to a standby is refused with where to look, before anything is changed.
 */
async function requireLeader(c: Client, side: "source" | "target", url: string): Promise<void> {
  if (!(await c.query("SELECT pg_is_in_recovery() AS standby")).rows[0].standby) return;
  throw new ProbatioError(
    `the ${side} database at ${redact(url)} is a standby (read-only); the data step needs the primary`,
    "where PostgreSQL fails over by itself (Patroni), the leader may have moved: `sudo -u postgres patronictl -c /etc/patroni/config.yml list` on a database machine names it; point the URL (or your SSH tunnel) at that one",
    ExitCode.refused,
  );
}

export async function withClients<T>(o: PgMoveOptions, fn: (src: Client, dst: Client) => Promise<T>): Promise<T> {
  const src = await connect(o.source);
  try {
    const dst = await connect(o.target);
    try {
      await requireLeader(src, "source", o.source);
      await requireLeader(dst, "target", o.target);
      return await fn(src, dst);
    } finally {
      await dst.end();
    }
  } finally {
    await src.end();
  }
}

export function psqlScript(url: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "psql",
      // One transaction: a schema lands whole or not at all. Statement by statement, a copy killed or failing midway
      // left some tables and not others, and the next run (which copies only into an empty target) met
      // "relation ... does not exist" when subscribing (found by the recovery suite's KoproGo 1-to-2).
      ["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-d", url, "-f", "-"],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, _out, stderr) =>
        err
          ? reject(
              new ProbatioError(`copying the schema to the target failed: ${stderr.trim() || err.message}`, undefined, ExitCode.failure),
            )
          : resolve(),
    );
    child.stdin!.end(script);
  });
}

/** User tables of the public schema, with their primary key columns. */
export async function tables(c: Client): Promise<{ name: string; pk: string[] }[]> {
  const r = await c.query(`
    SELECT c.relname AS name,
           coalesce((SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey, a.attnum))
                     FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                     WHERE i.indrelid = c.oid AND i.indisprimary), '{}'::text[]) AS pk
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname`);
  return r.rows.map((x) => ({ name: x.name as string, pk: x.pk as string[] }));
}

/** The source's schema into the target (pg_dump | psql): current pg_dump output carries psql meta-commands (\\restrict). */
export async function copySchema(source: string, target: string): Promise<void> {
  const { stdout } = await exec("pg_dump", ["--schema-only", "--no-publications", "--no-subscriptions", source], {
    maxBuffer: 256 * 1024 * 1024,
  });
  await psqlScript(target, stdout);
}
