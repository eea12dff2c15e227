/**
 * The DNS records of a stack's public name, as data (pure): what the edge component declares and the tests read.
 *
 * The public name never points at machines directly. Each generation of machines (a side-by-side migration builds a
 * new one) has its own origin name, `origin-g<generation>.<domain>`, pointing at its entry point (A records for
 * addresses, a CNAME for a classic VPS's host name); the public name is a single CNAME to the live origin name. A DNS
 * switch is then one update of one record's content: never a change of record type (which a provider may apply as
 * delete-then-create, a window in which the name does not exist and resolvers cache that it does not), and never two
 * generations' addresses answered together.
 */
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULT_DNS } from "../../lib/defaults";

export type DnsRecordType = "A" | "CNAME" | "CAA";

/** One record, its name relative to the zone ("" for the zone's apex). */
export interface DnsRecordSpec {
  readonly key: string;
  readonly name: string;
  readonly type: DnsRecordType;
  /** An address, a name ending with a dot, or a CAA value (`0 issue "letsencrypt.org"`). */
  readonly content: pulumi.Input<string>;
  readonly ttl: number;
  /** Behind Cloudflare's proxy (its addresses answer, the record's content is the origin). */
  readonly proxied: boolean;
}

/** The name of a generation's origin record. */
export function originName(domain: string, generation: number): string {
  return `origin-g${generation}.${domain}`;
}

/** `fqdn` relative to `zone` ("" for the apex); refuses a name outside the zone. */
export function relativeName(zone: string, fqdn: string): string {
  const z = zone.replace(/\.$/, "").toLowerCase();
  const n = fqdn.replace(/\.$/, "").toLowerCase();
  if (n === z) return "";
  if (!n.endsWith(`.${z}`)) throw new Error(`${fqdn} is not in the DNS zone ${zone}`);
  return n.slice(0, -(z.length + 1));
}

/**
 * A phase's entry point: the addresses clients reach (a load balancer, a floating IP, K3s nodes), or the host name of
 * the classic VPS that answers (OVH knows a VPS by its name; its address is not an output of the order).
 */
export type EntryPoint =
  | { readonly kind: "addresses"; readonly values: readonly pulumi.Input<string>[] }
  | { readonly kind: "host"; readonly value: pulumi.Input<string> };

/**
 * A generation's origin records: one A record per entry address and the CAA record that lets only the origins' ACME
 * issuer (Let's Encrypt) certify the name; or one CNAME to a classic VPS's host name (a CAA record cannot sit beside a
 * CNAME: that origin's CAA is its target's).
 */
export function originRecords(o: {
  readonly zone: string;
  readonly domain: string;
  readonly generation: number;
  readonly entry: EntryPoint;
  readonly ttl: number;
  readonly proxied: boolean;
}): DnsRecordSpec[] {
  const name = relativeName(o.zone, originName(o.domain, o.generation));
  const { entry } = o;
  switch (entry.kind) {
    case "host":
      return [{ key: "origin-cname", name, type: "CNAME", content: entry.value, ttl: o.ttl, proxied: o.proxied }];
    case "addresses":
      if (entry.values.length === 0) return [];
      return [
        ...entry.values.map((address, i): DnsRecordSpec => ({
          key: `origin-a-${i + 1}`,
          name,
          type: "A",
          content: address,
          ttl: o.ttl,
          proxied: o.proxied,
        })),
        { key: "origin-caa", name, type: "CAA", content: `0 issue "${DEFAULT_DNS.acmeIssuer}"`, ttl: o.ttl, proxied: false },
      ];
    default: {
      const unreachable: never = entry;
      throw new Error(`unknown entry point ${JSON.stringify(unreachable)}`);
    }
  }
}

/** The public name: one CNAME to the live generation's origin name. */
export function entryRecord(o: {
  readonly zone: string;
  readonly domain: string;
  readonly liveGeneration: number;
  readonly ttl: number;
  readonly proxied: boolean;
}): DnsRecordSpec {
  return {
    key: "entry",
    name: relativeName(o.zone, o.domain),
    type: "CNAME",
    content: `${originName(o.domain, o.liveGeneration)}.`,
    ttl: o.ttl,
    proxied: o.proxied,
  };
}

/**
 * The TTL of the records while a side-by-side migration runs: lowered to the switch TTL from provisioning on, so that
 * the switch reaches every resolver within it; the stack's own TTL before and after.
 */
export function recordTtl(configured: number, migrating: boolean): number {
  return migrating ? Math.min(configured, DEFAULT_DNS.switchTtlSeconds) : configured;
}

/**
 * The waits of a DNS switch, in seconds. Before: the rest of the stack's own TTL since the records were lowered (a
 * resolver may hold the old record that long). After: the lowered TTL (every resolver then asks again and gets the
 * target); none behind Cloudflare's proxy, whose answers do not change (its edge follows the record at once).
 */
export function switchWaits(o: {
  readonly configuredTtl: number;
  readonly loweredAt?: number;
  readonly now: number;
  readonly proxied: boolean;
}): { readonly beforeSeconds: number; readonly afterSeconds: number } {
  if (o.proxied) return { beforeSeconds: 0, afterSeconds: 0 };
  const lowered = recordTtl(o.configuredTtl, true);
  if (o.configuredTtl <= lowered) return { beforeSeconds: 0, afterSeconds: o.configuredTtl };
  // Not lowered ahead (a migration provisioned by an older probatio): resolvers may keep the old record its whole TTL.
  if (o.loweredAt === undefined) return { beforeSeconds: 0, afterSeconds: o.configuredTtl };
  return { beforeSeconds: Math.max(0, Math.ceil((o.loweredAt + o.configuredTtl * 1000 - o.now) / 1000)), afterSeconds: lowered };
}
