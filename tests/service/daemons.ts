/**
 * Starting the real daemons (Debian's packages) on free loopback ports, for the service-configuration tests and
 * the failover benchmark. PostgreSQL and pgBouncer refuse to run as root: when we are root they run as `postgres`.
 */
import { ChildProcess, execFile, spawn, SpawnOptions } from "child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "fs";
import { createServer, Server } from "net";
import { tmpdir } from "os";
import { join } from "path";
import { promisify } from "util";

const exec = promisify(execFile);
export const PG_BIN = "/usr/lib/postgresql/15/bin";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv: Server = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const isRoot = () => process.getuid?.() === 0;
let pgUid: { uid: number; gid: number } | undefined;
function postgresUser(): { uid: number; gid: number } | undefined {
  if (!isRoot()) return undefined;
  if (!pgUid) {
    const { execFileSync } = require("child_process") as typeof import("child_process");
    pgUid = {
      uid: Number(execFileSync("id", ["-u", "postgres"]).toString()),
      gid: Number(execFileSync("id", ["-g", "postgres"]).toString()),
    };
  }
  return pgUid;
}

/** A temp directory the daemons' user owns. */
export function daemonDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `probatio-${prefix}-`));
  chmodSync(dir, 0o755);
  const u = postgresUser();
  if (u) chownSync(dir, u.uid, u.gid);
  return dir;
}

export function writeOwned(path: string, content: string, mode = 0o600): void {
  writeFileSync(path, content, { mode });
  const u = postgresUser();
  if (u) chownSync(path, u.uid, u.gid);
}

/** Runs a command as the postgres user when we are root, else as ourselves. */
export async function runAsDaemonUser(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  const u = postgresUser();
  // The daemon user's own home, as on a machine (libpq in a subscriber looks for client certificates under it).
  const home = u ? { HOME: "/var/lib/postgresql" } : {};
  return exec(cmd, args, { env: { ...process.env, ...home, ...env }, uid: u?.uid, gid: u?.gid, cwd: "/tmp", maxBuffer: 64 * 1024 * 1024 });
}

export function spawnAsDaemonUser(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const u = postgresUser();
  return spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], cwd: "/tmp", ...opts, uid: u?.uid, gid: u?.gid });
}

export async function waitUntil(cond: () => Promise<boolean> | boolean, timeoutMs: number, what: string, stepMs = 50): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await cond()) return Date.now() - t0;
    } catch {
      /* not yet */
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export function stopProcess(p: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => p.kill("SIGKILL"), 5000);
    p.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    p.kill(signal);
  });
}

export interface PgServer {
  readonly dir: string;
  readonly port: number;
  stop(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
}

/** pg_ctl wrapper for a data directory. */
export function pgServer(dir: string, port: number): PgServer {
  return {
    dir,
    port,
    async stop(mode = "fast") {
      await runAsDaemonUser(`${PG_BIN}/pg_ctl`, ["-D", dir, "-m", mode, "-w", "stop"]).catch(() => undefined);
    },
    async start() {
      await runAsDaemonUser(`${PG_BIN}/pg_ctl`, ["-D", dir, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
    },
  };
}

/** psql as a superuser through the socket-less TCP path (trust is never used: passwords everywhere). */
export async function psql(port: number, sql: string, opts: { user?: string; password?: string; db?: string } = {}): Promise<string> {
  const { stdout } = await exec(
    "psql",
    [
      "-X",
      "-A",
      "-t",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      opts.user ?? "postgres",
      "-d",
      opts.db ?? "postgres",
      "-c",
      sql,
    ],
    {
      env: { ...process.env, PGPASSWORD: opts.password ?? "", PGCONNECT_TIMEOUT: "5" },
    },
  );
  return stdout.trim();
}

export function ensureDir(path: string): void {
  if (!existsSync(path)) mkdirSync(path, { recursive: true });
}

export { exec };
