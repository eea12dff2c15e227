import { ChildProcess, spawn } from "child_process";
import { mkdtempSync, writeFileSync } from "fs";
import { createServer, IncomingMessage, Server, ServerResponse, request } from "http";
import { tmpdir } from "os";
import { join } from "path";
import { renderHaproxyCfg } from "../../components/config/haproxy";
import { freePort, stopProcess, waitUntil } from "./daemons";

jest.setTimeout(120_000);

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

export async function startHaproxy(backends: Backend[], checkIntervalMs = 200): Promise<{ port: number; statsPort: number; proc: ChildProcess }> {
  const port = await freePort();
  const statsPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "probatio-haproxy-"));
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(cfg, renderHaproxyCfg({
    http: { address: "127.0.0.1", port }, backends: backends.map((b) => ({ name: b.name, address: "127.0.0.1", port: b.port })),
    healthPath: "/health", checkIntervalMs, fall: 2, rise: 2, stats: { address: "127.0.0.1", port: statsPort }, maxconn: 1000,
  }));
  const proc = spawn("haproxy", ["-db", "-f", cfg], { stdio: "ignore" });
  await waitUntil(async () => (await get(port)).status === 200, 10_000, "haproxy");
  return { port, statsPort, proc };
}

describe("HAProxy from the rendered configuration in front of three local backends", () => {
  let backends: Backend[];
  let lb: { port: number; statsPort: number; proc: ChildProcess };
  beforeAll(async () => {
    backends = [await startBackend("backend1"), await startBackend("backend2"), await startBackend("backend3")];
    lb = await startHaproxy(backends);
  });
  afterAll(async () => {
    await stopProcess(lb?.proc);
    await Promise.all(backends.map((b) => b.stop().catch(() => undefined)));
  });

  test("requests are spread round-robin over the three backends", async () => {
    const bodies = [];
    for (let i = 0; i < 9; i++) bodies.push((await get(lb.port)).body);
    expect(bodies.filter((b) => b === "backend1")).toHaveLength(3);
    expect(bodies.filter((b) => b === "backend2")).toHaveLength(3);
    expect(bodies.filter((b) => b === "backend3")).toHaveLength(3);
  });

  test("stop one backend: it is taken out of rotation and every request keeps succeeding", async () => {
    const results: number[] = [];
    let i = 0;
    const loop = (async () => {
      for (; i < 400; i++) results.push(await get(lb.port).then((r) => r.status, () => 0));
    })();
    await waitUntil(() => i >= 50, 10_000, "traffic");
    await backends[1].stop();
    await loop;
    expect(results.filter((s) => s !== 200)).toEqual([]);
    await waitUntil(async () => /backend2,[^\n]*,DOWN/.test((await get(lb.statsPort, "/stats;csv")).body), 10_000, "backend2 DOWN in the stats");
    const after = [];
    for (let k = 0; k < 6; k++) after.push((await get(lb.port)).body);
    expect(after).not.toContain("backend2");
  });
});
