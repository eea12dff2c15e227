/**
 * Migration benchmark: rehearses the data step on the ~1 GB data set between two real PostgreSQL servers, with an
 * application writing all along, and prints the write-unavailability window (first refused write on the source
 * -> first accepted write on the target) and the total duration.
 * Usage: npm run bench:migration [-- --documents N]
 */
import { Client } from "pg";
import { cutover, startReplication, waitForSync } from "../cli/migrations/pgMove";
import { fill, Writer } from "../tests/service/dataSet";
import { passwords, startPrimary, stopAll } from "../tests/service/pgCluster";

const documents = Number(process.argv[process.argv.indexOf("--documents") + 1]) || 1_150_000;

async function main(): Promise<void> {
  const source = await startPrimary({ migrationPeers: ["127.0.0.1"], sharedBuffers: "256MB" });
  const target = await startPrimary({ sharedBuffers: "256MB" });
  try {
    const admin = (port: number) => `postgres://postgres:${passwords.superuser}@127.0.0.1:${port}/app`;
    const app = (port: number) => `postgres://app:${passwords.app}@127.0.0.1:${port}/app`;
    let t = Date.now();
    await fill(app(source.port), documents);
    const c = new Client({ connectionString: admin(source.port) });
    await c.connect();
    const size = Number((await c.query("SELECT pg_database_size('app') AS s")).rows[0].s);
    await c.end();
    console.log(
      `data set: ${documents} documents, ${(size / 1024 ** 3).toFixed(2)} GiB, generated in ${((Date.now() - t) / 1000).toFixed(1)} s`,
    );

    const o = { source: admin(source.port), target: admin(target.port) };
    const writer = new Writer(app(source.port));
    writer.start();
    const t0 = Date.now();
    await startReplication(o);
    const p = await waitForSync(o, 1024 * 1024);
    const tSync = Date.now();
    console.log(
      `initial copy + catch-up: ${((tSync - t0) / 1000).toFixed(1)} s (${p.tables} tables, ${(p.bytes / 1024 ** 3).toFixed(2)} GiB on the target) while the application wrote ${writer.acknowledged.length} transactions`,
    );
    t = Date.now();
    const r = await cutover(o, (s) => console.log(`  +${Date.now() - t} ms ${s}`));
    await writer.finished();
    // The application's first write on the target, right after the switch.
    const w = new Client({ connectionString: app(target.port) });
    await w.connect();
    await w.query("INSERT INTO events (document_id, kind) VALUES (1, 'first-on-target')");
    const firstAccepted = Date.now();
    await w.end();
    const firstRefused = writer.firstRefusedAt || r.frozenAt;
    console.log(
      `cutover (freeze, catch-up, verify ${r.checks.length} tables by count + checksum, sequences, switch): ${r.switchedAt - r.frozenAt} ms`,
    );
    console.log(
      `write-unavailability window (first refused write on the source -> first accepted write on the target): ${firstAccepted - firstRefused} ms`,
    );
    console.log(
      `total duration of the data step: ${((firstAccepted - t0) / 1000).toFixed(1)} s; acknowledged writes during the move: ${writer.acknowledged.length}`,
    );
  } finally {
    await stopAll([source, target]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
