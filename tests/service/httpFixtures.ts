/** Small local HTTP backends and HAProxy started from the rendered configuration. */
import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, writeFileSync } from "fs";
import { createServer, IncomingMessage, Server, ServerResponse, request } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { renderHaproxyCfg } from "../../components/config/haproxy";
import { freePort, waitUntil } from "./daemons";

export interface Backend { name: string; port: number; server: Server; hits: number; stop(): Promise<void> }

export async function startBackend(name: string): Promise<Backend> {
  const port = await freePort();
  const b: Backend = {
    name, port, hits: 0,
    server: createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url !== "/health") b.hits++;
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(name);
    }),
    stop: () => new Promise((resolve) => { b.server.close(() => resolve()); b.server.closeAllConnections(); }),
  };
  await new Promise<void>((resolve) => b.server.listen(port, "127.0.0.1", resolve));
  return b;
}

export function get(port: number, path = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, agent: false, timeout: 5000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

export async function startHaproxy(backends: Backend[], checkIntervalMs = 200, fall = 2): Promise<{ port: number; statsPort: number; proc: ChildProcess }> {
  const port = await freePort();
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "probatio-haproxy-"));
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(cfg, renderHaproxyCfg({
    http: { address: "127.0.0.1", port }, backends: backends.map((b) => ({ name: b.name, address: "127.0.0.1", port: b.port })),
    healthPath: "/health", checkIntervalMs, fall, rise: 2, stats: { address: "127.0.0.1", port: statsPort }, maxconn: 1000,
  }));
  const proc = spawn("haproxy", ["-db", "-f", cfg], { stdio: "ignore" });
  await waitUntil(async () => (await get(port)).status === 200, 10_000, "haproxy");
  return { port, statsPort, proc };
}

