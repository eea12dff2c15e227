/** Cloudflare's zone in front of a phase with a CDN: its TLS settings, the static-asset cache rule, the WAF. */
import * as pulumi from "@pulumi/pulumi";
import { cacheRule, CdnLevel, OriginTls, wafRules, zoneSettings } from "./cloudflare";

export interface CloudflareZoneArgs {
  readonly zoneId: string;
  readonly apiToken: pulumi.Input<string>;
  /** The public name the rules apply to. */
  readonly host: string;
  readonly cdn: CdnLevel;
  /** What the origin serves on 443 (decides the SSL mode); an origin without TLS is not proxied (see the edge). */
  readonly originTls: Exclude<OriginTls, "none">;
}

export class CloudflareZone extends pulumi.ComponentResource {
  constructor(name: string, args: CloudflareZoneArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:edge:CloudflareZone", name, {}, opts);
    const cloudflare = require("@pulumi/cloudflare") as typeof import("@pulumi/cloudflare");
    const provider = new cloudflare.Provider(`${name}-cloudflare`, { apiToken: args.apiToken }, { parent: this });
    const o = { parent: this, provider };
    for (const s of zoneSettings(args.originTls)) {
      new cloudflare.ZoneSetting(
        `${name}-${s.settingId.replace(/_/g, "-")}`,
        { zoneId: args.zoneId, settingId: s.settingId, value: s.value },
        o,
      );
    }
    // A zone has one ruleset per phase: probatio's rules are the whole of it.
    new cloudflare.Ruleset(
      `${name}-cache`,
      {
        zoneId: args.zoneId,
        kind: "zone",
        phase: "http_request_cache_settings",
        name: "probatio: static assets",
        rules: [cacheRule(args.cdn, args.host)],
      },
      o,
    );
    const waf = wafRules(args.cdn, args.host);
    if (waf.length > 0) {
      new cloudflare.Ruleset(
        `${name}-waf`,
        { zoneId: args.zoneId, kind: "zone", phase: "http_request_firewall_managed", name: "probatio: managed WAF", rules: waf },
        o,
      );
    }
    this.registerOutputs({});
  }
}
