import { execFile } from "child_process";
import { createServer, Server } from "http";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "fs";
import { AddressInfo } from "net";
import { tmpdir } from "os";
import { join } from "path";

// `probatio prices refresh` against a STAND-IN of OVH's public catalogue API on loopback (the real one is not reachable here).
const root = join(__dirname, "..", "..", "..");
const home = mkdtempSync(join(tmpdir(), "probatio-prices-"));
let server: Server;
let base = "";
let status = 200;
const catalogs: Record<string, unknown> = {
  cloud: {
    locale: { currencyCode: "EUR", subsidiary: "FR" },
    addons: [
      {
        planCode: "d2-8.monthly.postpaid",
        pricings: [{ price: 1_650_000_000, intervalUnit: "month", interval: 1, capacities: ["consumption"] }],
      },
    ],
  },
  vps: {
    locale: { currencyCode: "EUR", subsidiary: "FR" },
    plans: [
      {
        planCode: "vps-2025-model1",
        pricings: [{ price: 458_000_000, intervalUnit: "month", interval: 1, commitment: 0, mode: "default", capacities: ["renew"] }],
      },
    ],
  },
};
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(req.url!);
    const kind = /\/order\/catalog\/public\/(\w+)\?ovhSubsidiary=FR$/.exec(req.url!)?.[1];
    res.writeHead(kind && status === 200 ? 200 : status === 200 ? 404 : status, { "content-type": "application/json" });
    res.end(JSON.stringify(kind ? catalogs[kind] : { message: "not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/1.0`;
});
afterAll(() => {
  server.close();
  rmSync(home, { recursive: true, force: true });
});

const cli = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(join(root, "bin", "probatio"), args, { env: { ...process.env, PROBATIO_HOME: home } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

test("a catalogue that fails: exit 1, what failed, nothing written", async () => {
  status = 503;
  const r = await cli(["prices", "refresh", "--api", base]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`OVH's catalogue answered 503 at ${base}/order/catalog/public/cloud?ovhSubsidiary=FR`);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(join(home, "prices.json"))).toBe(false);
  status = 200;
});

test("refresh reads both catalogues, writes the operator's copy, and the estimates then use it", async () => {
  const dry = await cli(["prices", "refresh", "--api", base, "--dry-run", "--json"]);
  expect(dry.code).toBe(0);
  expect(existsSync(join(home, "prices.json"))).toBe(false);
  const r = await cli(["prices", "refresh", "--api", base, "--json"]);
  expect(r.code).toBe(0);
  expect(asked).toContain("/1.0/order/catalog/public/vps?ovhSubsidiary=FR");
  const out = JSON.parse(r.stdout);
  expect(out.updated).toEqual([
    { key: "vps-2025-model1", from: 4.2, to: 4.58 },
    { key: "d2-8", from: 12, to: 16.5 },
  ]);
  const written = JSON.parse(readFileSync(join(home, "prices.json"), "utf8"));
  expect(written.prices["d2-8"]).toMatchObject({ monthlyEur: 16.5, source: "catalog" });
  const est = JSON.parse((await cli(["estimate", "--phase", "0", "--json"])).stdout);
  expect(est.cost.prices.origin).toBe(join(home, "prices.json"));
  expect(est.cost.items[0]).toMatchObject({ price: "vps-2025-model1", unitMonthlyEur: 4.58, source: "catalog" });
  expect(est.cost.monthlyEur).toBe(4 * 4.58 + 5);
  const listed = await cli(["prices"]);
  expect(listed.stdout).toMatch(/d2-8\s+16\.5\s+catalog/);
});
