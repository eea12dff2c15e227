/**
 * The STAND-IN application release: what a user's backend does at its smallest, deployed by `probatio deploy` as a real
 * release would be. GET /health answers 200; GET /probe writes a row through DATABASE_URL (pgBouncer or the primary, as
 * the phase tells the application), reads it back, and writes and reads a key in Redis (through Sentinel where the
 * phase has it). Packed with the `pg` client from this repository's node_modules; Redis is spoken in RESP by hand.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";

const appSource = (version: string) => `// STAND-IN application release ${version} (probatio boot tests)
const http = require("http");
const net = require("net");
const os = require("os");
const { Client } = require("pg");
const VERSION = ${JSON.stringify(version)};

// Resolves with the first \`expected\` replies (an array reply counts as its elements).
function resp(host, port, commands, expected = commands.length) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let buf = "";
    const replies = [];
    s.setTimeout(5000, () => s.destroy(new Error("redis timeout")));
    s.on("error", reject);
    s.on("data", (d) => {
      buf += d.toString();
      for (;;) {
        const m = /^([+\\-:])(.*)\\r\\n|^\\$(-?\\d+)\\r\\n|^\\*(\\d+)\\r\\n/.exec(buf);
        if (!m) break;
        if (m[1]) { replies.push(m[1] === "-" ? new Error(m[2]) : m[2]); buf = buf.slice(m[0].length); }
        else if (m[3] !== undefined) {
          const n = Number(m[3]);
          if (n < 0) { replies.push(null); buf = buf.slice(m[0].length); continue; }
          if (buf.length < m[0].length + n + 2) break;
          replies.push(buf.slice(m[0].length, m[0].length + n)); buf = buf.slice(m[0].length + n + 2);
        } else { buf = buf.slice(m[0].length); }
      }
      if (replies.length >= expected) { s.end(); resolve(replies); }
    });
    for (const c of commands) s.write("*" + c.length + "\\r\\n" + c.map((a) => "$" + Buffer.byteLength(String(a)) + "\\r\\n" + a + "\\r\\n").join(""));
  });
}

async function redisMaster() {
  if (process.env.REDIS_URL) { const u = new URL(process.env.REDIS_URL); return { host: u.hostname, port: Number(u.port) }; }
  for (const s of (process.env.REDIS_SENTINELS || "").split(",").filter(Boolean)) {
    const [host, port] = s.split(":");
    try {
      // The reply is an array of two bulk strings; this small parser returns them flattened: [host, port].
      const [masterHost, masterPort] = await resp(host, Number(port), [["SENTINEL", "get-master-addr-by-name", process.env.REDIS_MASTER_NAME]], 2);
      if (masterHost && masterPort) return { host: masterHost, port: Number(masterPort) };
    } catch (e) {}
  }
  return undefined;
}

async function probe() {
  // libpq's sslmode=require (encrypt, do not verify): node-postgres reads it as verify-full, so it is passed as such.
  const url = new URL(process.env.DATABASE_URL);
  const tls = url.searchParams.get("sslmode") === "require";
  url.searchParams.delete("sslmode");
  const db = new Client({ connectionString: url.toString(), ssl: tls ? { rejectUnauthorized: false } : undefined });
  await db.connect();
  try {
    await db.query("CREATE TABLE IF NOT EXISTS probatio_probe (id bigserial PRIMARY KEY, host text NOT NULL, version text NOT NULL, at timestamptz NOT NULL DEFAULT now())");
    const row = (await db.query("INSERT INTO probatio_probe (host, version) VALUES ($1, $2) RETURNING id", [os.hostname(), VERSION])).rows[0];
    const out = { version: VERSION, host: os.hostname(), row: Number(row.id) };
    const master = process.env.REDIS_PASSWORD ? await redisMaster() : undefined;
    if (master) {
      const r = await resp(master.host, master.port, [["AUTH", process.env.REDIS_PASSWORD], ["SET", "probe:" + row.id, os.hostname()], ["GET", "probe:" + row.id]]);
      if (r.some((x) => x instanceof Error)) throw r.find((x) => x instanceof Error);
      out.redis = r[2];
      out.redisMaster = master.host + ":" + master.port;
      out.redisVia = process.env.REDIS_URL ? "url" : "sentinel";
    }
    return out;
  } finally { await db.end(); }
}

http.createServer((req, res) => {
  if (req.url === "/health") { res.end("ok " + VERSION + "\\n"); return; }
  if (req.url === "/probe") {
    probe().then((o) => { res.setHeader("content-type", "application/json"); res.end(JSON.stringify(o)); })
      .catch((e) => { res.statusCode = 500; res.end(String(e && e.message) + "\\n"); });
    return;
  }
  res.statusCode = 404; res.end();
}).listen(Number(process.env.PORT || 3000));
`;

/** The node modules the `pg` client needs at run time. */
const PG_MODULES = [
  "pg",
  "pg-connection-string",
  "pg-pool",
  "pg-protocol",
  "pg-types",
  "pgpass",
  "pg-int8",
  "postgres-array",
  "postgres-bytea",
  "postgres-date",
  "postgres-interval",
  "split2",
  "xtend",
];

export interface StandinRelease {
  readonly version: string;
  /** Path under the stand-in web root. */
  readonly path: string;
  readonly sha256: string;
}

/** Builds the stand-in release archives (versions 1 and 2) under `webRoot/releases`, once. */
export function buildStandinReleases(webRoot: string, repoRoot: string): StandinRelease[] {
  return ["1", "2"].map((version) => {
    const path = `releases/standin-app-${version}.tar.gz`;
    const file = join(webRoot, path);
    if (!existsSync(file)) {
      const build = join(webRoot, "releases", `build-${version}`);
      rmSync(build, { recursive: true, force: true });
      mkdirSync(join(build, "node_modules"), { recursive: true });
      writeFileSync(join(build, "app.js"), appSource(version));
      for (const m of PG_MODULES) {
        const from = join(repoRoot, "node_modules", m);
        if (existsSync(from)) cpSync(from, join(build, "node_modules", m), { recursive: true });
      }
      execFileSync("tar", ["-czf", file, "-C", build, "."]);
      rmSync(build, { recursive: true, force: true });
    }
    return { version, path, sha256: createHash("sha256").update(readFileSync(file)).digest("hex") };
  });
}
