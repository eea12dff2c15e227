import { VENDOR_SOURCES, VendorSources } from "../components/config/vendor";
import type { Release } from "../components/config/services";
import * as pulumi from "@pulumi/pulumi";
import { derivedSecret } from "../lib/secrets";
import { RoadmapId } from "./roadmaps";
import type { DnsProvider } from "../components/edge/edgeRecords";
import { DEFAULT_DNS, DEFAULT_REGION } from "../lib/defaults";
import { MigrationState } from "./stackConfig";

export { configKeys, type ConfigKey, type MigrationState } from "./stackConfig";

/** Everything a phase program needs besides the roadmap data: from stack config (up) or from flags (plan). */
export interface PhaseSettings {
  readonly roadmap: RoadmapId;
  readonly phase: number;
  readonly stack: string;
  /** Environment of the phase to deploy (default: the stack name when the phase has it, else the phase's first). */
  readonly environment?: string;
  readonly region: string;
  /** OVH Public Cloud project id (Object Storage, managed services, instances). */
  readonly cloudProject: pulumi.Input<string>;
  /** Public key installed on every machine. */
  readonly sshPublicKey?: string;
  /** CIDRs allowed to reach SSH. Default none (no SSH from outside). */
  readonly sshAllowList: readonly string[];
  /** The application's database password (secret). Other database passwords are derived from it. */
  readonly dbPassword: pulumi.Input<string>;
  /** Password of Redis (secret); derived from dbPassword when not set. */
  readonly redisPassword?: pulumi.Input<string>;
  /** WORM storage backend (phase 4). */
  readonly wormBackend?: "ovh" | "aws";
  /** Retention already applied to the WORM bucket (years): a shorter one is refused. Set by the CLI from the stack. */
  readonly wormRetentionFloor?: number;
  /** Container image of the backend (Kubernetes phases). */
  readonly backendImage?: string;
  /** Public domain of the API (Docker Compose phases). */
  readonly domain?: string;
  /** The origin's certificate by ACME on the HAProxy nodes (stack config `acmeEmail`, `acmeDirectory`). */
  readonly acme?: { readonly email: string; readonly directory?: string };
  /** The DNS zone probatio manages the domain's records in (stack config `dnsZone`); absent, DNS is the operator's. */
  readonly edge?: EdgeSettings;
  /** Where alerts go (phases with Alertmanager). */
  readonly alertEmail?: string;
  /** The SMTP relay alert mail goes through (phases with Alertmanager): host:port, and a login if the relay wants one. */
  readonly alertSmtp?: { readonly relay: string; readonly user?: string; readonly password?: pulumi.Input<string> };
  /** HAProxy's connection limit per node, when the operator sets one (default derived from the seed's targets). */
  readonly lbMaxConnections?: number;
  /** How many backends run, where the phase has an autoscaling rule (set by `probatio autoscale`). Default its minimum. */
  readonly backendCount?: number;
  /** OVH IAM identity allowed to use the HSM's mTLS credential (ProbatioVault phase 4). */
  readonly hsmIdentityUrn?: string;
  /** How many side-by-side migrations built this stack's current machines (data store names carry it). Default 1. */
  readonly generation?: number;
  /** Where software from outside Debian comes from (vendors' repositories, the npm registry). Default the vendors'. */
  readonly vendors?: VendorSources;
  /** The application releases to run, by application (backend, api): set by `probatio deploy`. */
  readonly releases?: Readonly<Record<string, Release>>;
  /** A migration in progress (written by `probatio migrate`; its checkpoint is exported as a stack output). */
  readonly migration?: MigrationState;
}

/** The stack's DNS at the edge. */
export interface EdgeSettings {
  /** The zone that holds the domain (e.g. example.com). */
  readonly zone: string;
  readonly provider: DnsProvider;
  /** The records' TTL, seconds. */
  readonly ttl: number;
}

/**
 * The DNS provider of a roadmap's stacks unless `dnsProvider` says otherwise: Cloudflare where the roadmap puts its
 * CDN in front (ProbatioVault: its phase 0 records are DNS-only, then proxied), OVH's DNS elsewhere (KoproGo).
 */
export function defaultDnsProvider(roadmap: RoadmapId): "cloudflare" | "ovh" {
  return roadmap === "probatio" ? "cloudflare" : "ovh";
}

/** Derives a distinct secret for `purpose` from a base secret (one secret for the operator to keep, several on the machines). */
export function deriveSecret(base: pulumi.Input<string>, purpose: string): pulumi.Output<string> {
  return pulumi.secret(pulumi.output(base).apply((b) => derivedSecret(b, purpose)));
}

/** Reads the settings from the current stack's config (inside a Pulumi program). */
export function readSettings(): PhaseSettings {
  const config = new pulumi.Config("probatio");
  const allow = config.get("sshAllowList");
  const alertSmtpRelay = config.get("alertSmtpRelay");
  return {
    roadmap: (config.get("roadmap") ?? "probatio") as RoadmapId,
    phase: config.requireNumber("phase"),
    stack: pulumi.getStack(),
    environment: config.get("environment"),
    region: config.get("region") ?? DEFAULT_REGION,
    cloudProject: config.require("cloudProject"),
    sshPublicKey: config.get("sshPublicKey"),
    sshAllowList: allow
      ? allow
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    dbPassword: config.requireSecret("dbPassword"),
    redisPassword: config.getSecret("redisPassword"),
    wormBackend: config.get("wormBackend") as "ovh" | "aws" | undefined,
    wormRetentionFloor: config.getNumber("wormRetentionFloor"),
    backendImage: config.get("backendImage"),
    alertEmail: config.get("alertEmail"),
    alertSmtp: alertSmtpRelay
      ? { relay: alertSmtpRelay, user: config.get("alertSmtpUser"), password: config.getSecret("alertSmtpPassword") }
      : undefined,
    lbMaxConnections: config.getNumber("lbMaxConnections"),
    backendCount: config.getNumber("backendCount"),
    domain: config.get("domain"),
    hsmIdentityUrn: config.get("hsmIdentityUrn"),
    acme: config.get("acmeEmail") ? { email: config.get("acmeEmail")!, directory: config.get("acmeDirectory") } : undefined,
    edge: readEdge(config, (config.get("roadmap") ?? "probatio") as RoadmapId),
    generation: config.getNumber("generation"),
    migration: config.getObject<MigrationState>("migration"),
    vendors: { ...VENDOR_SOURCES, ...config.getObject<Partial<VendorSources>>("vendorSources") },
    releases: config.getObject<Record<string, Release>>("releases"),
  };
}

function readEdge(config: pulumi.Config, roadmap: RoadmapId): EdgeSettings | undefined {
  const zone = config.get("dnsZone");
  if (!zone) return undefined;
  const kind = (config.get("dnsProvider") ?? defaultDnsProvider(roadmap)) as "cloudflare" | "ovh";
  const ttl = config.getNumber("dnsTtl") ?? DEFAULT_DNS.ttlSeconds;
  if (kind === "ovh") return { zone, ttl, provider: { kind } };
  return {
    zone,
    ttl,
    provider: { kind, zoneId: config.require("cloudflareZoneId"), apiToken: config.requireSecret("cloudflareApiToken") },
  };
}
