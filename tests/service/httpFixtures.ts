/** Small local HTTP backends and HAProxy started from the rendered configuration. */
import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import { createServer, IncomingMessage, Server, ServerResponse, request } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { renderHaproxyCfg } from "../../components/config/haproxy";
import { freePort, waitUntil } from "./daemons";

export interface Backend {
  name: string;
  port: number;
  server: Server;
  hits: number;
  /** Requests (not health checks) by method. */
  methods: Record<string, number>;
  /** Status of the non-health responses; set it to 500 to make the backend fail its requests (health stays 200). */
  status: number;
  stop(): Promise<void>;
}

export async function startBackend(name: string): Promise<Backend> {
  const port = await freePort();
  const b: Backend = {
    name,
    port,
    hits: 0,
    methods: {},
    status: 200,
    server: createServer((req: IncomingMessage, res: ServerResponse) => {
      const health = req.url === "/health";
      if (!health) {
        b.hits++;
        b.methods[req.method ?? "?"] = (b.methods[req.method ?? "?"] ?? 0) + 1;
      }
      req.resume();
      req.on("end", () => {
        res.writeHead(health ? 200 : b.status, { "content-type": "text/plain" });
        res.end(name);
      });
    }),
    stop: () =>
      new Promise((resolve) => {
        b.server.close(() => resolve());
        b.server.closeAllConnections();
      }),
  };
  await new Promise<void>((resolve) => b.server.listen(port, "127.0.0.1", resolve));
  return b;
}

export function get(port: number, path = "/", method = "GET"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method, agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(method === "POST" ? "{}" : undefined);
  });
}

export interface Haproxy {
  port: number;
  statsPort: number;
  adminPort: number;
  proc: ChildProcess;
}

/** HAProxy from the rendered configuration (with the runtime API and the migration slot), on loopback ports. */
export async function startHaproxy(backends: Backend[], checkIntervalMs = 200, fall = 2): Promise<Haproxy> {
  const port = await freePort();
  const statsPort = await freePort();
  const adminPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "probatio-haproxy-"));
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(
    cfg,
    renderHaproxyCfg({
      http: { address: "127.0.0.1", port },
      backends: backends.map((b) => ({ name: b.name, address: "127.0.0.1", port: b.port })),
      healthPath: "/health",
      checkIntervalMs,
      fall,
      rise: 2,
      stats: { address: "127.0.0.1", port: statsPort },
      maxconn: 1000,
      runtimeApi: { address: "127.0.0.1", port: adminPort },
      migrationSlot: {},
    }),
  );
  const proc = spawn("haproxy", ["-db", "-f", cfg], { stdio: "ignore" });
  proc.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  await waitUntil(async () => (await get(port)).status === 200, 10_000, "haproxy");
  return { port, statsPort, adminPort, proc };
}
