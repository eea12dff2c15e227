import { readFileSync } from "fs";
import { join } from "path";
import { DATABASE_TLS_PURPOSE, derivedSecret, SUPERUSER_PURPOSE } from "../../lib/secrets";
import { databaseServerCert } from "../../components/config/databaseTls";
import { configure, makeSandbox, removeSandboxes, runCli as runCliOnly, Sandbox, stateFile, stateResources } from "./harness";

afterAll(() => removeSandboxes());
jest.setTimeout(600_000);

// ProbatioVault with its zone on Cloudflare (STUB provider: Cloudflare's API cannot be reached here) through the real
// engine: phase 1 behind the proxy to the backend's VPS (its HAProxy answers on 443), phase 2 behind the proxy to
// HAProxy's load balancer, each with the zone's settings and the cache rule. The 1-to-2 switch behind the proxy, with a failure in each step, is
// migrateRecovery's.
const TOKEN = "cf-token-4be8d2c0c0ffee";
/** The harness's dbPassword (configure's default), and what probatio derives from it for the machines. */
const PASSWORD = "Correct-Horse-Battery-42";
const DERIVED = [
  "k3s-token",
  "patroni-rest-api",
  "postgres-replication",
  "postgres-rewind",
  "redis",
  "vrrp",
  SUPERUSER_PURPOSE,
  DATABASE_TLS_PURPOSE,
];

/** Everything the CLI printed in this file (stdout and stderr), searched for secrets at the end. */
const printed: string[] = [];
const runCli: typeof runCliOnly = async (sb, args, env, netns) => {
  const r = await runCliOnly(sb, args, env, netns);
  printed.push(r.stdout, r.stderr);
  return r;
};
const SETTINGS: readonly [string, string][] = [
  ["alertEmail", "oncall@example.com"],
  ["alertSmtpRelay", "smtp.example.com:587"],
  ["domain", "api.example.com"],
  ["dnsZone", "example.com"],
  ["cloudflareZoneId", "023e105f4ecef8ad9ca31a8372d0c353"],
];

interface CloudObject {
  readonly urn: string;
  readonly outs: Record<string, unknown>;
}
const cloudflare = (sb: Sandbox, type: string): (CloudObject & { id: string })[] =>
  stateResources(sb, "prod")
    .filter((r) => r.type === type)
    .map((r) => ({
      urn: r.urn,
      id: (r as { id?: string }).id!,
      outs: JSON.parse(readFileSync(join(sb.cloud, `${(r as { id?: string }).id}.json`), "utf8")).outs,
    }));
const record = (sb: Sandbox, name: string) =>
  cloudflare(sb, "cloudflare:index/dnsRecord:DnsRecord").find((r) => r.urn.endsWith(`::${name}`));

describe("ProbatioVault on Cloudflare: phases 1 and 2 behind the proxy", () => {
  let sb: Sandbox;
  let p2: Sandbox;
  beforeAll(async () => {
    sb = makeSandbox();
    await configure(sb, "prod");
    for (const [k, v] of SETTINGS) expect((await runCli(sb, ["config", "set", "--stack", "prod", k, v])).code).toBe(0);
    expect((await runCli(sb, ["config", "set", "--stack", "prod", "--secret", "cloudflareApiToken", TOKEN])).code).toBe(0);
  });

  test("phase 1: the public name a proxied CNAME to generation 1's origin, itself a CNAME to the backend's VPS; SSL full, the cache rule", async () => {
    const up = await runCli(sb, ["up", "--phase", "1", "--stack", "prod", "--yes", "--json"]);
    expect(up.stderr).not.toMatch(/error:/);
    expect(up.code).toBe(0);
    // Its VPS's host firewalls leave SSH open with no allow-list (a lock-out would be for good): the operator is told.
    expect(up.stderr).toContain(
      "sshAllowList is not set: the host firewalls of probatio phase 1's VPS leave SSH open to every address (keys only; closing it would lock probatio's deliveries out)",
    );
    const out = JSON.parse(up.stdout).outputs;
    expect(out.edge).toEqual({
      name: "api.example.com",
      zone: "example.com",
      provider: "cloudflare",
      live: "origin-g1.api.example.com",
      proxied: true,
      // The stack's TTL (the records behind the proxy carry Cloudflare's "automatic", 1).
      ttl: 60,
    });
    expect(record(sb, "edge-entry-entry")!.outs).toMatchObject({
      name: "api.example.com",
      type: "CNAME",
      content: "origin-g1.api.example.com",
      proxied: true,
    });
    // The backend's VPS: its HAProxy terminates TLS in front of the backend (the same service phase 2's balances).
    const backend = stateResources(sb, "prod").find((r) => r.type === "ovh:Vps/vps:Vps" && r.urn.endsWith("::backend-1"))!;
    expect(record(sb, "edge-origin-origin-cname")!.outs).toMatchObject({
      name: "origin-g1.api.example.com",
      type: "CNAME",
      content: (backend.outputs as { serviceName: string }).serviceName,
      proxied: true,
    });
    const settings = Object.fromEntries(
      cloudflare(sb, "cloudflare:index/zoneSetting:ZoneSetting").map((s) => [s.outs.settingId as string, s.outs.value]),
    );
    expect(settings).toEqual({ ssl: "full", always_use_https: "on", min_tls_version: "1.2" });
    expect(cloudflare(sb, "cloudflare:index/ruleset:Ruleset").map((r) => r.outs.phase)).toEqual(["http_request_cache_settings"]);
    // The token is in the state only encrypted, and in no output.
    expect(readFileSync(stateFile(sb, "prod"), "utf8")).not.toContain(TOKEN);
    expect(up.stdout + up.stderr).not.toContain(TOKEN);
  });

  test("phase 2: behind the proxy, on HAProxy's address (SSL full: its certificate is self-signed), the 30-day cache rule, no WAF; a second up changes nothing", async () => {
    p2 = makeSandbox();
    await configure(p2, "prod");
    for (const [k, v] of SETTINGS) expect((await runCli(p2, ["config", "set", "--stack", "prod", k, v])).code).toBe(0);
    expect((await runCli(p2, ["config", "set", "--stack", "prod", "--secret", "cloudflareApiToken", TOKEN])).code).toBe(0);
    const up = await runCli(p2, ["up", "--phase", "2", "--stack", "prod", "--yes", "--json"]);
    expect(up.stderr).not.toMatch(/error:/);
    expect(up.code).toBe(0);
    // Its security groups let SSH in from the allow-list only: none set, the operator is told before the update.
    expect(up.stderr).toContain("sshAllowList is not set: probatio phase 2's security groups close SSH to the internet");
    const out = JSON.parse(up.stdout).outputs;
    expect(out.edge).toMatchObject({ live: "origin-g1.api.example.com", proxied: true });
    expect(record(p2, "edge-entry-entry")!.outs).toMatchObject({ content: "origin-g1.api.example.com", proxied: true, ttl: 1 });
    expect(record(p2, "edge-origin-origin-a-1")!.outs).toMatchObject({
      name: "origin-g1.api.example.com",
      type: "A",
      content: out.loadBalancer,
      proxied: true,
    });
    expect(record(p2, "edge-origin-origin-caa")!.outs).toMatchObject({
      type: "CAA",
      data: { flags: 0, tag: "issue", value: "letsencrypt.org" },
    });
    const settings = Object.fromEntries(
      cloudflare(p2, "cloudflare:index/zoneSetting:ZoneSetting").map((x) => [x.outs.settingId, x.outs.value]),
    );
    expect(settings).toEqual({ ssl: "full", always_use_https: "on", min_tls_version: "1.2" });
    const rulesets = cloudflare(p2, "cloudflare:index/ruleset:Ruleset");
    expect(rulesets.map((x) => x.outs.phase)).toEqual(["http_request_cache_settings"]);
    expect(rulesets[0].outs.rules).toMatchObject([{ action: "set_cache_settings", actionParameters: { edgeTtl: { default: 2_592_000 } } }]);
    expect(readFileSync(stateFile(p2, "prod"), "utf8")).not.toContain(TOKEN);
    const again = await runCli(p2, ["up", "--phase", "2", "--stack", "prod", "--yes", "--json"]);
    const changes = JSON.parse(again.stdout).changes;
    expect([changes.create ?? 0, changes.delete ?? 0, changes.replace ?? 0, changes.update ?? 0]).toEqual([0, 0, 0, 0]);
  });

  test("the engine runs probatio's policy pack on preview: Cloudflare's proxy advised against, by name; no mandatory violation", async () => {
    const preview = await runCli(sb, ["preview", "--phase", "1", "--stack", "prod"]);
    expect(preview.code).toBe(0);
    expect(preview.stderr).toContain(
      "policy cloudflare-proxy-sovereignty (advisory): cloudflare:index/dnsRecord:DnsRecord edge-entry-entry api.example.com is proxied by Cloudflare",
    );
    expect(preview.stderr).not.toContain("(mandatory)");
  });

  test("no secret in anything probatio printed (up, preview, status, a refusal), in the states or in the stack files", async () => {
    const status = await runCli(sb, ["status", "--stack", "prod", "--json"]);
    expect(status.code).toBe(0);
    const refused = await runCli(sb, ["up", "--phase", "3", "--stack", "prod", "--yes"]);
    expect(refused.code).toBe(6);
    // Phase 1's database server key (its PEM's base64 body: the key does not depend on the address the certificate names).
    const serverKey = (await databaseServerCert(derivedSecret(PASSWORD, DATABASE_TLS_PURPOSE), "prod", "prod-database-1", [])).key;
    const keyBody = serverKey
      .split("\n")
      .filter((l) => l && !l.startsWith("-----"))
      .join("");
    const secrets = [PASSWORD, TOKEN, keyBody, ...DERIVED.map((purpose) => derivedSecret(PASSWORD, purpose))];
    const files = [sb, p2].flatMap((s) => [stateFile(s, "prod"), join(s.project, "Pulumi.prod.yaml")].map((f) => readFileSync(f, "utf8")));
    expect(printed.length).toBeGreaterThan(20);
    for (const secret of secrets) {
      expect(printed.filter((text) => text.includes(secret))).toEqual([]);
      expect(files.filter((text) => text.includes(secret))).toEqual([]);
    }
  });
});
