/**
 * The edge of a phase: its origin records (what its entry point is), and, once per stack, the public name pointing at
 * the live generation's origin, with Cloudflare's zone settings, cache rule and WAF where the phase has a CDN.
 */
import * as pulumi from "@pulumi/pulumi";
import { CdnLevel, OriginTls } from "../../components/edge/cloudflare";
import { CloudflareZone } from "../../components/edge/cloudflareZone";
import { EdgeRecords } from "../../components/edge/edgeRecords";
import { entryRecord, EntryPoint, originName, originRecords, recordTtl } from "../../components/edge/records";
import { VpsFleet } from "../../components/vpsFleet";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { Topology } from "../roadmaps";
import { EdgeSettings, PhaseSettings } from "../settings";
import { PhaseContext } from "./context";
import { entryTerminatorRole, haproxyServesEntry } from "./entryTls";

/** What the stack's public name needs to know of the live phase. */
export interface EdgeFacts {
  readonly cdn?: CdnLevel;
  readonly originTls: OriginTls;
}

/** What a phase's entry point serves on 443. */
export function originTls(t: Topology, acme: boolean): OriginTls {
  // Traefik obtains its certificates by ACME (Docker Compose; Kubernetes, through cert-manager: entryTls.ts).
  if (t.compose || t.k8s) return "valid";
  // HAProxy (the load balancers of phases 2-3, the backend machine of phases 0-1): by ACME when the stack has an
  // `acmeEmail`, else the certificate made at first boot.
  if (haproxyServesEntry(t)) return acme ? "valid" : "self-signed";
  return "none";
}

/** Cloudflare's proxy in front: a Cloudflare zone, a phase with a CDN, and an origin it can reach on 443. */
export function proxied(edge: EdgeSettings, facts: EdgeFacts): boolean {
  return edge.provider.kind === "cloudflare" && !!facts.cdn && facts.originTls !== "none";
}

/**
 * The entry point of a phase: its load balancer; else its K3s nodes (Traefik answers on each); else the machine that
 * terminates its TLS in front of the backend (phases 0-1), or the first application machine with a public interface.
 */
export function entryPoint(
  ctx: PhaseContext,
  lbAddress: pulumi.Output<string> | undefined,
  k3sNodes: pulumi.Output<string[]> | undefined,
  apps: ReadonlyMap<string, VpsFleet>,
): EntryPoint | undefined {
  if (lbAddress) return { kind: "addresses", values: [lbAddress] };
  if (k3sNodes) {
    const count = ctx.topology.fleets.filter((f) => f.role.startsWith("k3s-")).reduce((n, f) => n + f.count, 0);
    return { kind: "addresses", values: Array.from({ length: count }, (_, i) => k3sNodes.apply((a) => a[i])) };
  }
  const terminator = entryTerminatorRole(ctx.topology);
  const fleets = [terminator ? apps.get(terminator) : undefined, ...apps.values()].filter(
    (f): f is VpsFleet => !!f && f.publicAddresses.length > 0,
  );
  const fleet = fleets[0];
  if (!fleet) return undefined;
  const spec = ctx.topology.fleets.find((f) => f.role === fleet.role);
  return spec?.variant === "ovh-vps"
    ? { kind: "host", value: fleet.publicAddresses[0] }
    : { kind: "addresses", values: fleet.publicAddresses };
}

function migrating(s: PhaseSettings): boolean {
  return s.migration?.stage === "transitional" || s.migration?.stage === "decommissioning";
}

/** A phase's origin records (nothing when the stack does not manage its DNS). Returns the origin name. */
export function declareOrigin(ctx: PhaseContext, entry: EntryPoint | undefined, facts: EdgeFacts): string | undefined {
  const s = ctx.settings;
  if (!s.edge || !s.domain || !entry || (entry.kind === "addresses" && entry.values.length === 0)) return undefined;
  new EdgeRecords(
    "edge-origin",
    {
      provider: s.edge.provider,
      zone: s.edge.zone,
      records: originRecords({
        zone: s.edge.zone,
        domain: s.domain,
        generation: ctx.generation,
        entry,
        ttl: recordTtl(s.edge.ttl, migrating(s)),
        proxied: proxied(s.edge, facts),
      }),
    },
    ctx.rootOpts,
  );
  return originName(s.domain, ctx.generation);
}

/** The stack's public name, pointing at the live generation's origin: its own resources, outside every phase. */
export interface EdgeOutput {
  readonly name: string;
  readonly zone: string;
  readonly provider: "cloudflare" | "ovh";
  /** The origin name the public name points at. */
  readonly live: string;
  readonly proxied: boolean;
  readonly ttl: number;
}

export function declareEntry(s: PhaseSettings, liveGeneration: number, facts: EdgeFacts): EdgeOutput | undefined {
  if (!s.edge || !s.domain) return undefined;
  const edge = s.edge;
  const isProxied = proxied(edge, facts);
  const ttl = recordTtl(edge.ttl, migrating(s));
  new EdgeRecords("edge-entry", {
    provider: edge.provider,
    zone: edge.zone,
    records: [entryRecord({ zone: edge.zone, domain: s.domain, liveGeneration, ttl, proxied: isProxied })],
  });
  if (edge.provider.kind === "cloudflare" && facts.cdn && facts.originTls !== "none") {
    new CloudflareZone("edge-cloudflare", {
      zoneId: edge.provider.zoneId,
      apiToken: edge.provider.apiToken,
      host: s.domain,
      cdn: facts.cdn,
      originTls: facts.originTls,
    });
  }
  return {
    name: s.domain,
    zone: edge.zone,
    provider: edge.provider.kind,
    live: originName(s.domain, liveGeneration),
    proxied: isProxied,
    ttl,
  };
}

/** The stack's DNS settings make sense together (checked before anything is declared). */
export function validateEdge(s: PhaseSettings): void {
  const edge = s.edge;
  if (!edge) return;
  const fail = (why: string, fix: string) => {
    throw new ProbatioError(`dnsZone ${edge.zone}: ${why}`, fix, ExitCode.usage);
  };
  if (!s.domain) fail("no `domain` to publish in it", "probatio config set domain api.example.com (a name inside the zone)");
  const domain = s.domain!.replace(/\.$/, "").toLowerCase();
  const zone = edge.zone.replace(/\.$/, "").toLowerCase();
  if (domain !== zone && !domain.endsWith(`.${zone}`))
    fail(`the domain ${s.domain} is not inside it`, "set dnsZone to the zone that holds the domain");
  // The public name is a CNAME to the live origin: a zone's apex cannot be one at OVH (Cloudflare flattens it).
  if (domain === zone && edge.provider.kind === "ovh")
    fail(
      "the domain is the zone's apex, which cannot be a CNAME in an OVH zone",
      "publish a name inside the zone (api.example.com), or use Cloudflare",
    );
  if (!Number.isInteger(edge.ttl) || edge.ttl < 60 || edge.ttl > 86400)
    fail(`dnsTtl ${edge.ttl} is outside 60-86400 seconds`, "probatio config set dnsTtl 60 (OVH's and Cloudflare's minimum)");
}
