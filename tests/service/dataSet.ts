/** A realistic data set for the migration tests and benchmark: documents, events, users; about 1 GB. */
import { Client } from "pg";

export const schema = `
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE documents (id bigserial PRIMARY KEY, owner_id int NOT NULL REFERENCES users(id), title text NOT NULL, body text NOT NULL, sha256 text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE events (id bigserial PRIMARY KEY, document_id bigint NOT NULL, kind text NOT NULL, at timestamptz NOT NULL DEFAULT now());
CREATE INDEX events_document ON events (document_id);
`;

/** Fills the database: `documents` rows carry ~800 bytes stored inline (not compressed), so size is real. */
export async function fill(url: string, documents: number): Promise<void> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(schema);
    await c.query("INSERT INTO users (email) SELECT 'user' || i || '@example.org' FROM generate_series(1, 50000) i");
    const batch = 200_000;
    for (let start = 1; start <= documents; start += batch) {
      const end = Math.min(documents, start + batch - 1);
      await c.query(
        `INSERT INTO documents (owner_id, title, body, sha256)
        SELECT 1 + (i % 50000), 'Evidence ' || i, repeat(md5(i::text), 25), encode(sha256(i::text::bytea), 'hex') FROM generate_series($1::bigint, $2::bigint) i`,
        [start, end],
      );
      await c.query(
        `INSERT INTO events (document_id, kind) SELECT i, CASE WHEN i % 3 = 0 THEN 'signed' ELSE 'stored' END FROM generate_series($1::bigint, $2::bigint) i`,
        [start, end],
      );
    }
    await c.query("ANALYZE");
  } finally {
    await c.end();
  }
}

/**
 * Keeps writing (an insert and an update per transaction) until stopped or until the database refuses writes.
 * Records every acknowledged insert id, so a test can check that nothing acknowledged was lost.
 */
export class Writer {
  readonly acknowledged: number[] = [];
  firstRefusedAt = 0;
  private stopped = false;
  private done?: Promise<void>;

  constructor(private readonly url: string) {}

  start(): void {
    this.done = (async () => {
      let c: Client | undefined;
      while (!this.stopped) {
        try {
          if (!c) {
            c = new Client({ connectionString: this.url });
            // A terminated session also surfaces as an 'error' event; the query's rejection is handled below.
            c.on("error", () => undefined);
            await c.connect();
          }
          const r = await c.query(
            "INSERT INTO events (document_id, kind) VALUES (1 + floor(random() * 1000)::int, 'written-during-migration') RETURNING id",
          );
          this.acknowledged.push(Number(r.rows[0].id));
          await c.query("UPDATE documents SET title = title || '.' WHERE id = $1", [1 + (this.acknowledged.length % 1000)]);
        } catch (err) {
          if (/read-only transaction|terminating connection|Connection terminated|not queryable|connection error/i.test(String(err))) {
            if (!this.firstRefusedAt) this.firstRefusedAt = Date.now();
            if (/read-only/.test(String(err))) {
              this.stopped = true;
              break;
            }
            await c?.end().catch(() => undefined);
            c = undefined;
            continue;
          }
          throw err;
        }
      }
      await c?.end().catch(() => undefined);
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  /** Resolves when the writer stopped by itself (the source refused a write). */
  finished(): Promise<void> {
    return this.done ?? Promise.resolve();
  }
}
