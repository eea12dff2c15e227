/**
 * A real authoritative DNS server (Knot DNS, Debian's `knot`) on loopback, serving the records `records()` gives (e.g.
 * the OVH zone records the STUB cloud holds: `zoneRecordsIn`): what the zone's name servers would answer once the
 * records are published. `publish()` writes the zone and reloads it; between two publications the server keeps
 * answering the older zone, as a name server that has not caught up would.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { createServer } from "net";
import { tmpdir } from "os";
import { join } from "path";

export interface AuthoritativeDns {
  /** "127.0.0.1:port": the stack's `dnsResolver`. */
  readonly address: string;
  /** Serves the zone as the stub cloud holds it now; returns the records served. */
  publish(): string[];
  stop(): Promise<void>;
}

async function freeUdpTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The OVH zone records of `zone` in the stub cloud, as zone-file lines. */
export function zoneRecordsIn(cloud: string, zone: string): string[] {
  const lines: string[] = [];
  for (const f of readdirSync(cloud).filter((x) => x.endsWith(".json"))) {
    const o = JSON.parse(readFileSync(join(cloud, f), "utf8")) as { urn: string; outs: Record<string, unknown> };
    if (!o.urn.includes("ovh:Domain/zoneRecord:ZoneRecord") || o.outs.zone !== zone) continue;
    const name = o.outs.subdomain ? `${o.outs.subdomain}.${zone}.` : `${zone}.`;
    lines.push(`${name} ${o.outs.ttl ?? 3600} IN ${o.outs.fieldtype} ${o.outs.target}`);
  }
  return lines.sort();
}

export async function startAuthoritativeDns(zone: string, records: () => string[]): Promise<AuthoritativeDns> {
  const dir = mkdtempSync(join(tmpdir(), "probatio-knot-"));
  const port = await freeUdpTcpPort();
  const conf = join(dir, "knot.conf");
  const zoneFile = join(dir, `${zone}.zone`);
  writeFileSync(
    conf,
    [
      "server:",
      `    rundir: "${dir}"`,
      `    listen: 127.0.0.1@${port}`,
      "control:",
      `    listen: "${join(dir, "knot.sock")}"`,
      "database:",
      `    storage: "${dir}"`,
      "log:",
      "  - target: stderr",
      "    any: warning",
      "zone:",
      `  - domain: ${zone}`,
      `    file: "${zoneFile}"`,
      "    journal-content: none",
      "    zonefile-sync: -1",
      "",
    ].join("\n"),
  );
  let serial = 1;
  const write = () => {
    const lines = records();
    writeFileSync(
      zoneFile,
      [
        `$ORIGIN ${zone}.`,
        `@ 60 IN SOA ns1.${zone}. hostmaster.${zone}. ${serial++} 3600 600 86400 60`,
        `@ 60 IN NS ns1.${zone}.`,
        `ns1 60 IN A 127.0.0.1`,
        ...lines,
        "",
      ].join("\n"),
    );
    return lines;
  };
  write();
  const proc: ChildProcess = spawn("/usr/sbin/knotd", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  const address = `127.0.0.1:${port}`;
  // Ready once it answers for the zone.
  for (let i = 0; ; i++) {
    try {
      const soa = execFileSync("kdig", [`@127.0.0.1`, "-p", String(port), "+short", "SOA", zone], { encoding: "utf8", timeout: 2000 });
      if (soa.trim()) break;
    } catch {
      // not yet
    }
    if (i > 100 || proc.exitCode !== null) throw new Error(`knotd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    address,
    publish() {
      const lines = write();
      execFileSync("knotc", ["-c", conf, "-b", "zone-reload", zone], { encoding: "utf8" });
      return lines;
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
