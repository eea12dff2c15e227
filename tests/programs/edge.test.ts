import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { cacheRule, wafRules, zoneSettings } from "../../components/edge/cloudflare";
import { parseCaa } from "../../components/edge/edgeRecords";
import { entryRecord, originRecords, relativeName, switchWaits } from "../../components/edge/records";
import { checkManagedDnsMoved } from "../../cli/migrations/dnsCheck";
import { planPhase, planSettings } from "../../offline/plan";
import { buildPhase } from "../../programs/phase";
import { runUnderMocks } from "../../offline/mockRun";
import { byType, cloudInitFiles, named, plan } from "../helpers";
import type { DeclaredResource } from "../../offline/mockRun";

// Each plan runs the whole phase program under Pulumi's mocks (a second or two, more on a loaded machine).
jest.setTimeout(180_000);

const records = (resources: DeclaredResource[]) =>
  [...byType({ resources }, "cloudflare:index/dnsRecord:DnsRecord"), ...byType({ resources }, "ovh:Domain/zoneRecord:ZoneRecord")].map(
    (r) => r.inputs,
  );

describe("the edge's records as data", () => {
  test("a generation's origin: an A record per entry address and a CAA for Let's Encrypt; a classic VPS: one CNAME to its name", () => {
    const a = originRecords({
      zone: "example.com",
      domain: "api.example.com",
      generation: 2,
      entry: { kind: "addresses", values: ["203.0.113.10", "203.0.113.11"] },
      ttl: 60,
      proxied: false,
    });
    expect(a).toEqual([
      { key: "origin-a-1", name: "origin-g2.api", type: "A", content: "203.0.113.10", ttl: 60, proxied: false },
      { key: "origin-a-2", name: "origin-g2.api", type: "A", content: "203.0.113.11", ttl: 60, proxied: false },
      { key: "origin-caa", name: "origin-g2.api", type: "CAA", content: '0 issue "letsencrypt.org"', ttl: 60, proxied: false },
    ]);
    const host = originRecords({
      zone: "example.com",
      domain: "api.example.com",
      generation: 1,
      entry: { kind: "host", value: "vps-1a2b3c4d.vps.ovh.net" },
      ttl: 300,
      proxied: true,
    });
    expect(host).toEqual([
      { key: "origin-cname", name: "origin-g1.api", type: "CNAME", content: "vps-1a2b3c4d.vps.ovh.net", ttl: 300, proxied: true },
    ]);
    expect(entryRecord({ zone: "example.com", domain: "api.example.com", liveGeneration: 3, ttl: 60, proxied: false })).toMatchObject({
      name: "api",
      type: "CNAME",
      content: "origin-g3.api.example.com.",
    });
    expect(() => relativeName("example.com", "api.example.org")).toThrow("api.example.org is not in the DNS zone example.com");
    expect(parseCaa('0 issue "letsencrypt.org"')).toEqual({ flags: 0, tag: "issue", value: "letsencrypt.org" });
  });

  test("the switch's waits: the rest of a longer old TTL before, the lowered TTL after, nothing behind Cloudflare's proxy", () => {
    const t0 = 1_000_000;
    // 3600 s records lowered to 60 s at provisioning, 1000 s ago: 2600 s more before the switch, 60 s after.
    expect(switchWaits({ configuredTtl: 3600, loweredAt: t0, now: t0 + 1_000_000, proxied: false })).toEqual({
      beforeSeconds: 2600,
      afterSeconds: 60,
    });
    expect(switchWaits({ configuredTtl: 3600, loweredAt: t0, now: t0 + 4_000_000, proxied: false })).toEqual({
      beforeSeconds: 0,
      afterSeconds: 60,
    });
    // Never lowered (provisioned by an older probatio): the whole old TTL after the switch.
    expect(switchWaits({ configuredTtl: 3600, now: t0, proxied: false })).toEqual({ beforeSeconds: 0, afterSeconds: 3600 });
    expect(switchWaits({ configuredTtl: 60, loweredAt: t0, now: t0, proxied: false })).toEqual({ beforeSeconds: 0, afterSeconds: 60 });
    expect(switchWaits({ configuredTtl: 3600, loweredAt: t0, now: t0, proxied: true })).toEqual({ beforeSeconds: 0, afterSeconds: 0 });
  });

  test("Cloudflare: strict TLS only for a verifiable origin, 30 days of edge cache for static assets, the WAF from the Pro plan up", () => {
    expect(zoneSettings("valid")).toEqual([
      { settingId: "ssl", value: "strict" },
      { settingId: "always_use_https", value: "on" },
      { settingId: "min_tls_version", value: "1.2" },
    ]);
    expect(zoneSettings("self-signed")[0]).toEqual({ settingId: "ssl", value: "full" });
    const rule = cacheRule({ provider: "cloudflare-free", cacheDays: 30 }, "api.example.com");
    expect(rule.actionParameters.edgeTtl).toEqual({ mode: "override_origin", default: 2_592_000 });
    expect(rule.expression).toContain('http.host eq "api.example.com"');
    expect(rule.expression).toMatch(/extension in \{.*"js".*"css".*"png".*\}/);
    expect(wafRules({ provider: "cloudflare-free", cacheDays: 30 }, "api.example.com")).toEqual([]);
    expect(wafRules({ provider: "cloudflare-business", cacheDays: 30 }, "api.example.com").map((r) => r.actionParameters.id)).toEqual([
      "efb7b8c949ac4650a09736fc376e9aee",
      "4814384a9e5d4991b9815dcfc25d2f1f",
    ]);
  });
});

describe("what each phase declares at the edge (probatio plan: Cloudflare for ProbatioVault, OVH's zone for KoproGo)", () => {
  test("ProbatioVault 1: proxied by Cloudflare Free to the backend's VPS (its HAProxy terminates TLS), SSL full, the cache rule", async () => {
    const p = await plan("probatio", 1);
    expect(records(p.resources)).toHaveLength(2);
    expect(named(p, "edge-entry-entry").inputs).toMatchObject({
      name: "api.example.com",
      type: "CNAME",
      content: "origin-g1.api.example.com",
      proxied: true,
      ttl: 1,
    });
    // The backend's classic VPS, by the name OVH gives it (its address is not an output of the order).
    // (The plan's stand-in for OVH's name is derived from the VPS resource's name: the backend's, not the API's.)
    const planHost = (vps: string) => `vps-${createHash("sha256").update(vps).digest("hex").slice(0, 8)}.vps.ovh.net`;
    expect(named(p, "edge-origin-origin-cname").inputs).toMatchObject({
      name: "origin-g1.api.example.com",
      type: "CNAME",
      content: planHost("backend-1"),
      proxied: true,
    });
    expect(planHost("backend-1")).not.toBe(planHost("api-1"));
    expect(named(p, "edge-cloudflare-ssl").inputs).toMatchObject({ settingId: "ssl", value: "full" });
    expect(byType(p, "cloudflare:index/ruleset:Ruleset").map((r) => r.inputs.phase)).toEqual(["http_request_cache_settings"]);
  });

  test("ProbatioVault 2: proxied by Cloudflare to HAProxy (SSL full: its certificate is self-signed), the cache rule, no WAF", async () => {
    const p = await plan("probatio", 2);
    expect(named(p, "edge-entry-entry").inputs).toMatchObject({
      name: "api.example.com",
      content: "origin-g1.api.example.com",
      proxied: true,
      ttl: 1,
    });
    expect(named(p, "edge-origin-origin-a-1").inputs).toMatchObject({ name: "origin-g1.api.example.com", type: "A", proxied: true });
    expect(named(p, "edge-origin-origin-caa").inputs).toMatchObject({
      type: "CAA",
      data: { flags: 0, tag: "issue", value: "letsencrypt.org" },
    });
    expect(named(p, "edge-cloudflare-ssl").inputs).toMatchObject({ settingId: "ssl", value: "full" });
    expect(byType(p, "cloudflare:index/ruleset:Ruleset").map((r) => r.inputs.phase)).toEqual(["http_request_cache_settings"]);
    expect(named(p, "edge-entry-cloudflare").inputs).toEqual({ apiToken: "[secret]" });
  });

  test("ProbatioVault 4: proxied by Cloudflare Business to the load balancer in front of Traefik (ACME: SSL strict), cache and WAF", async () => {
    const p = await plan("probatio", 4);
    expect(named(p, "edge-entry-entry").inputs).toMatchObject({ proxied: true, ttl: 1 });
    expect(named(p, "edge-origin-origin-a-1").inputs).toMatchObject({ type: "A", proxied: true });
    expect(named(p, "edge-cloudflare-ssl").inputs).toMatchObject({ settingId: "ssl", value: "strict" });
    expect(byType(p, "cloudflare:index/ruleset:Ruleset").map((r) => r.inputs.phase)).toEqual([
      "http_request_cache_settings",
      "http_request_firewall_managed",
    ]);
  });

  test("KoproGo 3: OVH zone records, one A record per K3s node (Traefik answers on each), 60 s TTL", async () => {
    const p = await plan("koprogo", 3, "prod");
    const a = byType(p, "ovh:Domain/zoneRecord:ZoneRecord").filter((r) => r.inputs.fieldtype === "A");
    expect(a).toHaveLength(3);
    expect(a.every((r) => r.inputs.subdomain === "origin-g1.api" && r.inputs.ttl === 60 && r.inputs.zone === "example.com")).toBe(true);
    expect(named(p, "edge-entry-entry").inputs).toMatchObject({
      subdomain: "api",
      fieldtype: "CNAME",
      target: "origin-g1.api.example.com.",
    });
  });

  test("during a side-by-side migration: both generations' origins, TTL 60, the public name on the source until the switch", async () => {
    const base = planSettings({ roadmap: "koprogo", phase: 2, stack: "prod" });
    const edge = { zone: "example.com", ttl: 3600, provider: { kind: "ovh" as const } };
    const migration = { roadmap: "koprogo", from: 2, to: 3, stage: "transitional" as const, completed: [], startedAt: "x" };
    const run = (dns?: "target") =>
      runUnderMocks(() => buildPhase({ ...base, edge, migration: { ...migration, dns } }) as never, { project: "probatio", stack: "prod" });
    const before = await run();
    const entry = (r: typeof before) => r.resources.find((x) => x.name === "edge-entry-entry")!.inputs;
    expect(entry(before)).toMatchObject({ target: "origin-g1.api.example.com.", ttl: 60 });
    const origins = before.resources.filter((r) => r.name.startsWith("edge-origin-origin")).map((r) => r.inputs.subdomain);
    expect(new Set(origins)).toEqual(new Set(["origin-g1.api", "origin-g2.api"]));
    expect(entry(await run("target"))).toMatchObject({ target: "origin-g2.api.example.com.", ttl: 60 });
    // Outside a migration the stack's own TTL.
    const settled = await runUnderMocks(() => buildPhase({ ...base, edge }) as never, { project: "probatio", stack: "prod" });
    expect(entry(settled)).toMatchObject({ ttl: 3600 });
  });

  test("with acmeEmail: each HAProxy node of phase 3 asks Let's Encrypt for its certificate, and Cloudflare verifies it (strict)", async () => {
    const settings = { ...planSettings({ roadmap: "probatio", phase: 3, stack: "prod" }), acme: { email: "oncall@example.com" } };
    const r = await runUnderMocks(() => buildPhase(settings) as never, { project: "probatio", stack: "prod", revealSecrets: true });
    expect(r.resources.find((x) => x.name === "edge-cloudflare-ssl")!.inputs).toMatchObject({ value: "strict" });
    const nodes = (r.componentOutputs["lb-nodes"].userData as string[]).map(cloudInitFiles);
    nodes.forEach((files, i) => {
      const own = ["10.1.0.11", "10.1.0.12"][i];
      expect(files["/usr/local/sbin/probatio-certificate"]).toContain(`--http-01-address ${own} --http-01-port 8888`);
      expect(files["/usr/local/sbin/probatio-certificate"]).toContain("--server https://acme-v02.api.letsencrypt.org/directory");
      expect(files["/usr/local/sbin/probatio-certificate"]).toContain("-d api.example.com --keep-until-expiring");
      // The challenge reaches whichever node holds the VRRP address: both nodes' certbot, tried in turn.
      expect(files["/etc/haproxy/haproxy.cfg"]).toContain("    server certbot1 10.1.0.11:8888\n    server certbot2 10.1.0.12:8888");
      expect(files["/etc/haproxy/haproxy.cfg"]).toContain("retry-on conn-failure empty-response 404");
      // Each node at its own minute past 00:00 and 12:00 (24 and 42 for these addresses).
      expect(files["/etc/systemd/system/probatio-certificate.timer"]).toContain(`OnCalendar=*-*-* 00,12:${["24", "42"][i]}:00`);
    });
    // Without it, the first-boot certificate and SSL "full".
    const p = await plan("probatio", 3);
    expect(named(p, "edge-cloudflare-ssl").inputs).toMatchObject({ value: "full" });
  });

  test("bad DNS settings are refused with the fix", async () => {
    const bad = (over: object) => () => buildPhase({ ...planSettings({ roadmap: "koprogo", phase: 1, stack: "prod" }), ...over });
    expect(bad({ edge: { zone: "example.org", ttl: 60, provider: { kind: "ovh" } } })).toThrow(
      "dnsZone example.org: the domain api.example.com is not inside it",
    );
    expect(bad({ domain: "example.com", edge: { zone: "example.com", ttl: 60, provider: { kind: "ovh" } } })).toThrow(
      "the zone's apex, which cannot be a CNAME in an OVH zone",
    );
    expect(bad({ edge: { zone: "example.com", ttl: 5, provider: { kind: "ovh" } } })).toThrow("dnsTtl 5 is outside 60-86400 seconds");
    void pulumi;
    void planPhase;
  });
});

describe("the decommission's check of a managed name", () => {
  const target = "origin-g2.api.example.com";
  test("behind Cloudflare's proxy: the record as written must name the target's origin", async () => {
    const never = async () => {
      throw new Error("no DNS query behind the proxy");
    };
    await expect(
      checkManagedDnsMoved({
        domain: "api.example.com",
        targetOrigin: target,
        record: { live: target, proxied: true },
        resolveCname: never,
      }),
    ).resolves.toContain("behind Cloudflare's proxy");
    await expect(
      checkManagedDnsMoved({
        domain: "api.example.com",
        targetOrigin: target,
        record: { live: "origin-g1.api.example.com", proxied: true },
        resolveCname: never,
      }),
    ).rejects.toMatchObject({ exitCode: 6, message: expect.stringContaining("record points at origin-g1.api.example.com") });
  });

  test("DNS-only: the name's CNAME as DNS answers it", async () => {
    const answer = (names: string[]) => async () => names;
    await expect(
      checkManagedDnsMoved({
        domain: "api.example.com",
        targetOrigin: target,
        record: { live: target, proxied: false },
        resolveCname: answer([`${target}.`]),
      }),
    ).resolves.toBe(`api.example.com is a CNAME to ${target}: the target`);
    await expect(
      checkManagedDnsMoved({
        domain: "api.example.com",
        targetOrigin: target,
        record: { live: target, proxied: false },
        resolveCname: answer(["origin-g1.api.example.com"]),
      }),
    ).rejects.toMatchObject({
      exitCode: 6,
      message: expect.stringContaining("is a CNAME to origin-g1.api.example.com, not to the target's origin"),
    });
  });
});
