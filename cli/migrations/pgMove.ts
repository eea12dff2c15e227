/**
 * Moving a PostgreSQL database to the next phase's cluster by logical replication: the target catches up while
 * the source keeps serving; then a short write freeze, a final catch-up, verification, and the switch.
 * Every function is idempotent: after a crash, Ctrl-C or SIGKILL, running it again continues where PostgreSQL is
 * (the replication state lives in the databases, not in this process).
 */
import { randomBytes } from "crypto";
import { Client } from "pg";
import { MIGRATION_ROLE } from "../../lib/defaults";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { connect, conninfo, copySchema, tables, withClients } from "./pgConnection";

export { redact } from "./pgConnection";
export { verify, type TableCheck } from "./pgVerify";
import { TableCheck, verify } from "./pgVerify";

export const NAME = MIGRATION_ROLE;

export interface PgMoveOptions {
  /** Connection URL of the source database (a role that may create publications: owner or superuser). */
  readonly source: string;
  /** Connection URL of the target database (a role that may create subscriptions). */
  readonly target: string;
  /**
   * How the target reaches the source, when it differs from `source` (e.g. the operator reaches the source through an
   * SSH tunnel, the target at its public address): host, port, database and options; the user and password are the
   * migration role's (see `startReplication`). Default `source`.
   */
  readonly sourceFromTarget?: string;
}

export interface Progress {
  readonly tables: number;
  readonly tablesReady: number;
  readonly rows: number;
  readonly bytes: number;
  readonly lagBytes: number;
}

/**
 * Starts (or finds running) the replication: schema copied if the target has none, a publication of every table
 * on the source, a subscription on the target that copies the existing rows then streams changes.
 */
export async function startReplication(o: PgMoveOptions): Promise<void> {
  await withClients(o, async (src, dst) => {
    const level = (await src.query("SHOW wal_level")).rows[0].wal_level;
    if (level !== "logical") {
      throw new ProbatioError(
        `the source has wal_level=${level}; logical replication needs wal_level=logical`,
        "probatio renders wal_level=logical from phase 0; on an older server set it and restart PostgreSQL once",
        ExitCode.refused,
      );
    }
    const noPk = (await tables(src)).filter((t) => t.pk.length === 0);
    if (noPk.length > 0) {
      throw new ProbatioError(
        `tables without a primary key cannot be verified nor replicated safely: ${noPk.map((t) => t.name).join(", ")}`,
        "add a primary key (or ALTER TABLE ... REPLICA IDENTITY FULL) and run again",
        ExitCode.refused,
      );
    }
    const targetTables = await tables(dst);
    const sub = await dst.query("SELECT 1 FROM pg_subscription WHERE subname = $1", [NAME]);
    if (sub.rowCount === 0 && targetTables.length > 0) {
      // A schema of its own, or part of the source's: the subscription would fail on the first table it lacks.
      const missing = (await tables(src)).map((t) => t.name).filter((n) => !targetTables.some((t) => t.name === n));
      if (missing.length > 0) {
        throw new ProbatioError(
          `the target has tables but not the source's ${missing.join(", ")}: its schema is not the source's`,
          "replicate into an empty database (a freshly provisioned target), or create the missing tables as the source has them",
          ExitCode.refused,
        );
      }
      // A new subscription copies every row: rows already there (an earlier, rolled-back attempt) would collide
      // with the copy and stall it. probatio never empties a database on its own.
      const filled: string[] = [];
      for (const t of targetTables) if ((await dst.query(`SELECT EXISTS (SELECT 1 FROM "${t.name}") AS x`)).rows[0].x) filled.push(t.name);
      if (filled.length > 0) {
        throw new ProbatioError(
          `the target already holds rows (${filled.join(", ")}) and no replication is running: copying again would collide with them`,
          "replicate into an empty database: a freshly provisioned target, or empty this one yourself (TRUNCATE) if its rows are only an earlier attempt's copy",
          ExitCode.refused,
        );
      }
    }
    if (targetTables.length === 0) {
      // Schema only: pg_dump | psql. The rows come through the subscription.
      // psql, not the driver: current pg_dump output carries psql meta-commands (\\restrict).
      // Owners and grants are kept: the application role must own its tables on the target too.
      await copySchema(o.source, o.target);
    }
    const pub = await src.query("SELECT 1 FROM pg_publication WHERE pubname = $1", [NAME]);
    if (pub.rowCount === 0) await src.query(`CREATE PUBLICATION ${NAME} FOR ALL TABLES`);
    await guardTarget(dst, true);
    if (sub.rowCount === 0) {
      const from = new URL(o.sourceFromTarget ?? o.source);
      from.username = MIGRATION_ROLE;
      from.password = await migrationLogin(src);
      // CREATE SUBSCRIPTION cannot run in a transaction block: one statement, autocommit.
      await dst
        .query(
          `CREATE SUBSCRIPTION ${NAME} CONNECTION '${conninfo(from.toString()).replace(/'/g, "''")}' PUBLICATION ${NAME} WITH (copy_data = true)`,
        )
        .catch((err: Error) => {
          if (!/could not connect|pg_hba|authentication failed|SSL/i.test(err.message)) throw err;
          throw new ProbatioError(
            `the target cannot connect to the source at ${from.hostname}:${from.port || 5432} as ${MIGRATION_ROLE}: ${err.message}`,
            "the source's pg_hba lets the migration's role in from the target's egress address only while the stack is in the " +
              "migration's transitional stage (`probatio migrate` provisions it; check `probatio status`), and " +
              "PROBATIO_SOURCE_DB_FROM_TARGET must name the source's address as the target reaches it",
            ExitCode.failure,
          );
        });
    }
  });
}

/**
 * The subscription's login on the source: a role of its own, allowed to replicate and to read every table (the
 * initial copy) and nothing else, with a one-off password that only the subscription knows. pg_hba lets it in
 * from the target's egress address only; `endReplication` drops it. Returns the password.
 */
async function migrationLogin(src: Client): Promise<string> {
  const password = randomBytes(24).toString("base64url");
  const exists = (await src.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [MIGRATION_ROLE])).rowCount;
  try {
    await src.query(`${exists ? "ALTER" : "CREATE"} ROLE ${MIGRATION_ROLE} WITH LOGIN REPLICATION PASSWORD '${password}'`);
    await src.query(`GRANT pg_read_all_data TO ${MIGRATION_ROLE}`);
  } catch (err) {
    throw new ProbatioError(
      `cannot create the migration's login role on the source: ${(err as Error).message}`,
      "PROBATIO_SOURCE_DB must be the source's superuser (postgres, through an SSH tunnel to the primary's loopback)",
      ExitCode.refused,
    );
  }
  return password;
}

export async function progress(o: PgMoveOptions): Promise<Progress> {
  return withClients(o, async (src, dst) => {
    const t = await dst.query(
      `SELECT count(*)::int AS tables, count(*) FILTER (WHERE srsubstate = 'r')::int AS ready
      FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = $1`,
      [NAME],
    );
    const rows = await dst.query(
      "SELECT coalesce(sum(n_live_tup), 0)::bigint AS rows, pg_database_size(current_database())::bigint AS bytes FROM pg_stat_user_tables",
    );
    const lag = await src.query(
      `SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint AS lag
      FROM pg_replication_slots WHERE slot_name = $1`,
      [NAME],
    );
    if (t.rows[0].tables > 0 && lag.rowCount === 0) {
      // PostgreSQL 15 keeps a logical slot on the server that created it: a failover of the source (Patroni) leaves
      // the new leader without it, and the subscription can never catch up from there.
      throw new ProbatioError(
        `the source has no replication slot '${NAME}' although the target subscribes to it: the source failed over during the replication (PostgreSQL 15 does not carry logical slots to a standby), or the slot was dropped`,
        "start the copy over on the current leader: `probatio data rollback`, empty the target's tables (TRUNCATE: they hold an incomplete copy), then `probatio data replicate`",
        ExitCode.failure,
      );
    }
    return {
      tables: t.rows[0].tables,
      tablesReady: t.rows[0].ready,
      rows: Number(rows.rows[0].rows),
      bytes: Number(rows.rows[0].bytes),
      lagBytes: lag.rowCount ? Number(lag.rows[0].lag) : Number.MAX_SAFE_INTEGER,
    };
  });
}

/** Waits until every table is copied and streaming, and the lag is under `maxLagBytes`. */
export async function waitForSync(
  o: PgMoveOptions,
  maxLagBytes: number,
  onProgress?: (p: Progress) => void,
  timeoutMs = 6 * 3600_000,
): Promise<Progress> {
  const t0 = Date.now();
  for (;;) {
    const p = await progress(o);
    onProgress?.(p);
    if (p.tables > 0 && p.tablesReady === p.tables && p.lagBytes <= maxLagBytes) return p;
    if (Date.now() - t0 > timeoutMs)
      throw new ProbatioError(
        "replication did not catch up in time",
        "check the target's log (pg_stat_subscription) and run the step again: it continues where it is",
        ExitCode.failure,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface CutoverResult {
  readonly frozenAt: number;
  readonly switchedAt: number;
  readonly checks: TableCheck[];
}

/**
 * The switch: freeze writes on the source (new sessions read-only, open sessions ended), wait for the target to
 * have everything, verify, copy sequence positions, then end the subscription. The source stays read-only, so
 * nothing can diverge; `rollback` lifts the freeze.
 */
export async function cutover(o: PgMoveOptions, onStage?: (s: string) => void): Promise<CutoverResult> {
  const src = await connect(o.source);
  let frozenAt = 0;
  try {
    const db = (await src.query("SELECT current_database() AS d")).rows[0].d as string;
    await src.query("SET default_transaction_read_only = off"); // this session: a resumed cutover finds the database frozen
    await src.query(`ALTER DATABASE "${db}" SET default_transaction_read_only = on`);
    await src.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = $1 AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
      [db],
    );
    frozenAt = Date.now();
    onStage?.("source frozen (read-only)");
    const lsn = (await src.query("SELECT pg_current_wal_lsn() AS l")).rows[0].l as string;
    for (;;) {
      const r = await src.query("SELECT confirmed_flush_lsn >= $1::pg_lsn AS done FROM pg_replication_slots WHERE slot_name = $2", [
        lsn,
        NAME,
      ]);
      if (r.rowCount === 0) break; // already switched by an earlier run
      if (r.rows[0].done) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    onStage?.("target caught up");
  } finally {
    await src.end();
  }
  const checks = await verify(o);
  const bad = checks.filter((c) => !c.equal);
  if (bad.length > 0) {
    throw new ProbatioError(
      `verification failed for ${bad.map((c) => `${c.table} (${c.sourceRows} vs ${c.targetRows} rows)`).join(", ")}; writes stay frozen on the source`,
      "nothing was switched. Investigate, then `--resume` the migration, or `--rollback` to lift the freeze",
      ExitCode.failure,
    );
  }
  onStage?.("verified");
  await withClients(o, async (s, d) => {
    await s.query("SET default_transaction_read_only = off"); // this session only: the database stays frozen
    const seqs = await s.query("SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE last_value IS NOT NULL");
    for (const q of seqs.rows) await d.query("SELECT setval($1, $2, true)", [`"${q.schemaname}"."${q.sequencename}"`, q.last_value]);
    await endReplication(s, d);
    await guardTarget(d, false);
  });
  onStage?.("switched: the target takes writes");
  return { frozenAt, switchedAt: Date.now(), checks };
}

/**
 * Until the switch the target is a replica: the application's roles (every login role but the migration's own and
 * superusers) get read-only sessions there, so a request served by the target before the switch (the reads the
 * migration moves first) can never write rows the source does not have. `on = false` lifts it.
 */
async function guardTarget(target: Client, on: boolean): Promise<string[]> {
  const db = (await target.query("SELECT current_database() AS d")).rows[0].d as string;
  const roles = (
    await target.query(
      "SELECT rolname FROM pg_roles WHERE rolcanlogin AND NOT rolsuper AND rolname <> current_user AND rolname NOT LIKE 'pg\\_%' ORDER BY 1",
    )
  ).rows.map((r) => r.rolname as string);
  const owners = (await target.query("SELECT DISTINCT tableowner AS o FROM pg_tables WHERE schemaname = 'public'")).rows.map(
    (x) => x.o as string,
  );
  const guarded: string[] = [];
  for (const r of roles) {
    const role = `"${r.replace(/"/g, '""')}"`;
    try {
      await target.query(
        on
          ? `ALTER ROLE ${role} IN DATABASE "${db}" SET default_transaction_read_only = on`
          : `ALTER ROLE ${role} IN DATABASE "${db}" RESET default_transaction_read_only`,
      );
      guarded.push(r);
    } catch (err) {
      // A managed database's own service roles may not be ours to alter (insufficient_privilege); they are left as
      // they are. The roles that own the application's tables must be guarded: without that, refuse.
      if ((err as { code?: string }).code !== "42501") throw err;
      if (owners.includes(r)) {
        throw new ProbatioError(
          `the migration's user cannot make the application role '${r}' read-only on the target: ${(err as Error).message}`,
          "connect to the target (PROBATIO_TARGET_DB) as the database owner or a role with CREATEROLE",
          ExitCode.refused,
        );
      }
    }
  }
  // Sessions opened before the guard would keep writing: they are ended (the application reconnects, read-only).
  if (on && guarded.length > 0) {
    await target.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND usename = ANY($2) AND pid <> pg_backend_pid()",
      [db, guarded],
    );
  }
  return guarded;
}

/** Ends the replication: the subscription (and its slot on the source), then the publication. Idempotent. */
async function endReplication(source: Client, target: Client): Promise<void> {
  const sub = await target.query("SELECT 1 FROM pg_subscription WHERE subname = $1", [NAME]);
  if (sub.rowCount) {
    await target.query(`ALTER SUBSCRIPTION ${NAME} DISABLE`);
    // A slot the source no longer has (it failed over) cannot be dropped there: the subscription forgets it first.
    const slot = await source.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = $1", [NAME]);
    if (slot.rowCount === 0) await target.query(`ALTER SUBSCRIPTION ${NAME} SET (slot_name = NONE)`);
    await target.query(`DROP SUBSCRIPTION ${NAME}`);
  }
  await source.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", [NAME]);
  await source.query(`DROP PUBLICATION IF EXISTS ${NAME}`);
  // The migration's login goes with it (a superuser's source URL created it; nothing else uses it).
  if ((await source.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [MIGRATION_ROLE])).rowCount) {
    await source.query(`DROP ROLE ${MIGRATION_ROLE}`);
  }
}

/** Undo before the switch: end the subscription, drop the publication, lift the freeze. The target's copy stays. */
export async function rollback(o: PgMoveOptions): Promise<void> {
  await withClients(o, async (s, d) => {
    await s.query("SET default_transaction_read_only = off");
    await endReplication(s, d);
    await guardTarget(d, false);
    const db = (await s.query("SELECT current_database() AS d")).rows[0].d as string;
    await s.query(`ALTER DATABASE "${db}" RESET default_transaction_read_only`);
  });
}
