/** Cloudflare's zone settings and rulesets for a phase's CDN, as data (pure): the edge component declares them. */
import { CLOUDFLARE_EDGE } from "../../lib/defaults";

/** What the origin serves on 443: decides Cloudflare's SSL mode, and whether the proxy can reach the origin at all. */
export type OriginTls =
  /** A certificate browsers accept (Traefik's ACME): Cloudflare verifies it ("strict"). */
  | "valid"
  /** HAProxy's certificate made at first boot: encrypted, not verifiable ("full"). */
  | "self-signed"
  /** Nothing on 443 (the application answers on its own port): Cloudflare's proxy cannot reach it. */
  | "none";

export interface CdnLevel {
  readonly provider: "cloudflare-free" | "cloudflare-pro" | "cloudflare-business";
  readonly cacheDays: number;
}

/** Zone settings: HTTPS always, TLS 1.2 at least, and the SSL mode the origin allows. */
export function zoneSettings(origin: Exclude<OriginTls, "none">): { readonly settingId: string; readonly value: string }[] {
  return [
    { settingId: "ssl", value: origin === "valid" ? "strict" : "full" },
    { settingId: "always_use_https", value: "on" },
    { settingId: "min_tls_version", value: CLOUDFLARE_EDGE.minTlsVersion },
  ];
}

/** The cache rule: static assets kept at Cloudflare's edge for the roadmap's days (the seed: 30). */
export function cacheRule(cdn: CdnLevel, host: string) {
  const extensions = CLOUDFLARE_EDGE.staticExtensions.map((e) => `"${e}"`).join(" ");
  return {
    action: "set_cache_settings",
    description: `static assets cached ${cdn.cacheDays} days at the edge`,
    expression: `(http.host eq "${host}" and http.request.uri.path.extension in {${extensions}})`,
    actionParameters: { cache: true, edgeTtl: { mode: "override_origin", default: cdn.cacheDays * 86400 } },
  };
}

/** The managed WAF rules where the plan includes them (Pro and Business; the seed's phase 4 takes Business). */
export function wafRules(cdn: CdnLevel, host: string) {
  if (cdn.provider === "cloudflare-free") return [];
  return [CLOUDFLARE_EDGE.managedRulesetId, CLOUDFLARE_EDGE.owaspRulesetId].map((id) => ({
    action: "execute",
    description: id === CLOUDFLARE_EDGE.managedRulesetId ? "Cloudflare Managed Ruleset" : "Cloudflare OWASP Core Ruleset",
    expression: `(http.host eq "${host}")`,
    actionParameters: { id },
  }));
}
