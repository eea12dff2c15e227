/** Verification of a moved database: row counts and an order-independent checksum of every table, source against target. */
import { Client } from "pg";
import { tables, withClients } from "./pgConnection";
import type { PgMoveOptions } from "./pgMove";

export interface TableCheck {
  readonly table: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly sourceChecksum: string;
  readonly targetChecksum: string;
  readonly equal: boolean;
}

/** Row count and content checksum of every table, source and target, each in one consistent snapshot. */
export async function verify(o: PgMoveOptions): Promise<TableCheck[]> {
  return withClients(o, async (src, dst) => {
    const list = await tables(src);
    const sums = async (c: Client) => {
      await c.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const out = new Map<string, { rows: number; sum: string }>();
      for (const t of list) {
        // Order-independent 128-bit content checksum: two 64-bit hashes of every row, summed: no sort, so it fits
        // inside the write freeze. hash_record_extended hashes the values without turning them into text; a column
        // type without a hash function (json, xml, point) falls back to hashing the row's text.
        const sql = (h: string) => `SELECT count(*)::bigint AS n,
            coalesce(sum(${h.replace("$SEED", "0")}::numeric), 0)::text || ':' || coalesce(sum(${h.replace("$SEED", "1")}::numeric), 0)::text AS s
          FROM "${t.name}" x`;
        await c.query("SAVEPOINT checksum");
        let r;
        try {
          r = await c.query(sql("hash_record_extended(x, $SEED)"));
        } catch {
          await c.query("ROLLBACK TO SAVEPOINT checksum");
          r = await c.query(sql("hashtextextended(x::text, $SEED)"));
        }
        out.set(t.name, { rows: Number(r.rows[0].n), sum: r.rows[0].s });
      }
      await c.query("COMMIT");
      return out;
    };
    const [a, b] = await Promise.all([sums(src), sums(dst)]);
    return list.map((t) => {
      const s = a.get(t.name)!;
      const d = b.get(t.name) ?? { rows: -1, sum: "" };
      return {
        table: t.name,
        sourceRows: s.rows,
        targetRows: d.rows,
        sourceChecksum: s.sum,
        targetChecksum: d.sum,
        equal: s.rows === d.rows && s.sum === d.sum,
      };
    });
  });
}
