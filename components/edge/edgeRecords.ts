/**
 * DNS records at the edge, on the stack's DNS provider: Cloudflare (its proxy in front where the phase has a CDN) or
 * OVH's DNS zone. The records are data (records.ts); this component turns them into the provider's resources.
 */
import * as pulumi from "@pulumi/pulumi";
import { DnsRecordSpec } from "./records";

/** Where the zone lives, and the credentials to change it. */
export type DnsProvider =
  | { readonly kind: "ovh" }
  | {
      readonly kind: "cloudflare";
      /** The zone's id in Cloudflare (its dashboard's overview page). */
      readonly zoneId: string;
      /** An API token allowed to edit the zone's DNS, settings and rulesets (secret). */
      readonly apiToken: pulumi.Input<string>;
    };

export interface EdgeRecordsArgs {
  readonly provider: DnsProvider;
  /** The DNS zone the records are in (e.g. example.com). */
  readonly zone: string;
  readonly records: readonly DnsRecordSpec[];
}

export class EdgeRecords extends pulumi.ComponentResource {
  /** Each record's provider id, by its key. */
  public readonly ids: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: EdgeRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:edge:EdgeRecords", name, {}, opts);
    const provider = args.provider;
    switch (provider.kind) {
      case "ovh":
        for (const r of args.records) this.ids[r.key] = this.ovhRecord(name, args.zone, r);
        break;
      case "cloudflare": {
        const cloudflare = require("@pulumi/cloudflare") as typeof import("@pulumi/cloudflare");
        const p = new cloudflare.Provider(`${name}-cloudflare`, { apiToken: provider.apiToken }, { parent: this });
        for (const r of args.records) this.ids[r.key] = this.cloudflareRecord(name, args.zone, provider.zoneId, r, p);
        break;
      }
      default: {
        const unreachable: never = provider;
        throw new Error(`unknown DNS provider ${JSON.stringify(unreachable)}`);
      }
    }
    this.registerOutputs({ ids: this.ids });
  }

  private ovhRecord(name: string, zone: string, r: DnsRecordSpec): pulumi.Output<string> {
    const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
    const record = new ovh.domain.ZoneRecord(
      `${name}-${r.key}`,
      {
        zone,
        subdomain: r.name,
        fieldtype: r.type,
        // OVH reads a target without the final dot as a name inside the zone.
        target: r.type === "CNAME" ? pulumi.output(r.content).apply((c) => (!c || c.endsWith(".") ? c : `${c}.`)) : r.content,
        ttl: r.ttl,
      },
      { parent: this },
    );
    return record.id;
  }

  private cloudflareRecord(
    name: string,
    zone: string,
    zoneId: string,
    r: DnsRecordSpec,
    provider: pulumi.ProviderResource,
  ): pulumi.Output<string> {
    const cloudflare = require("@pulumi/cloudflare") as typeof import("@pulumi/cloudflare");
    const fqdn = r.name ? `${r.name}.${zone}` : zone;
    const caa = r.type === "CAA" ? pulumi.output(r.content).apply(parseCaa) : undefined;
    const record = new cloudflare.DnsRecord(
      `${name}-${r.key}`,
      {
        zoneId,
        name: fqdn,
        type: r.type,
        // Cloudflare stores names without the final dot (with it, every update would show a change).
        content: caa ? undefined : pulumi.output(r.content).apply((c) => c?.replace(/\.$/, "")),
        data: caa,
        // A proxied record's TTL is Cloudflare's ("automatic", 1): resolvers see Cloudflare's addresses, which do not move.
        ttl: r.proxied ? 1 : r.ttl,
        proxied: r.type === "CAA" ? undefined : r.proxied,
        comment: "managed by probatio",
      },
      { parent: this, provider },
    );
    return record.id;
  }
}

/** `0 issue "letsencrypt.org"` as Cloudflare's structured CAA data. */
export function parseCaa(value: string): { flags: number; tag: string; value: string } {
  const m = /^(\d+)\s+(\S+)\s+"(.*)"$/.exec(value.trim());
  if (!m) throw new Error(`not a CAA value: ${value}`);
  return { flags: Number(m[1]), tag: m[2], value: m[3] };
}
