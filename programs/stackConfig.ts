/** The stack's settings as the CLI checks them before the engine runs (no Pulumi SDK: the CLI loads this at start-up). */
import { DEFAULT_REGION } from "../lib/defaults";
import { Topology } from "./roadmaps";
import { invalidOverrides } from "./prices";

export interface MigrationState {
  readonly roadmap: string;
  readonly from: number;
  readonly to: number;
  /** The plan's strategy when the move offers several (`migrate --strategy`); --resume keeps it. */
  readonly strategy?: string;
  /** "in-place" migrations build the target only; "transitional" holds source and target. */
  readonly stage: "in-place" | "transitional" | "decommissioning";
  /** Names of the completed steps, in order. */
  readonly completed: readonly string[];
  readonly startedAt: string;
  /**
   * The generation the stack's public name points at while source and target both stand: absent (the source's)
   * until the DNS switch sets "target".
   */
  readonly dns?: "target";
  /** When the provisioning lowered the records' TTL (ms since the epoch): the switch waits out the old TTL from it. */
  readonly dnsLoweredAt?: number;
}

/** A stack config key the CLI checks before running the engine. */
export interface ConfigKey {
  readonly key: string;
  readonly secret: boolean;
  readonly required: boolean;
  /** Required only for topologies where this returns true (default: `required` alone decides). */
  readonly requiredWhen?: (t: Topology) => boolean;
  readonly description: string;
  readonly example: string;
  /** Why a value is refused (checked by `probatio config set`), or undefined when it is acceptable. */
  readonly invalid?: (value: string) => string | undefined;
}

/** "host:port" of an SMTP relay; the port is where Alertmanager speaks STARTTLS (587) or TLS (465). */
const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

export const configKeys: readonly ConfigKey[] = [
  { key: "roadmap", secret: false, required: false, description: "roadmap: probatio or koprogo (default probatio)", example: "probatio" },
  {
    key: "phase",
    secret: false,
    required: false,
    description: "phase deployed by this stack (set by `probatio up --phase`)",
    example: "0",
  },
  { key: "region", secret: false, required: false, description: `OVH region (default ${DEFAULT_REGION})`, example: DEFAULT_REGION },
  {
    key: "cloudProject",
    secret: false,
    required: true,
    description: "OVH Public Cloud project id (Object Storage, instances, managed services)",
    example: "0123456789abcdef0123456789abcdef",
  },
  {
    key: "dbPassword",
    secret: true,
    required: true,
    description: "password of the application's PostgreSQL user",
    example: "$(openssl rand -base64 24)",
  },
  {
    key: "sshPublicKey",
    secret: false,
    required: false,
    description: "SSH public key installed on every machine",
    example: '"$(cat ~/.ssh/id_ed25519.pub)"',
  },
  {
    key: "sshAllowList",
    secret: false,
    required: false,
    description: "comma-separated CIDRs allowed to reach SSH (default none)",
    example: "203.0.113.7/32",
  },
  {
    key: "environment",
    secret: false,
    required: false,
    description: "environment of the phase (dev, test, staging, prod); default from the stack name",
    example: "prod",
  },
  {
    key: "wormBackend",
    secret: false,
    required: false,
    description: "WORM storage backend for ProbatioVault phase 4: ovh (default) or aws",
    example: "ovh",
  },
  {
    key: "backendImage",
    secret: false,
    required: false,
    requiredWhen: (t) => !!t.k8s || !!t.compose,
    description: "container image of the backend (Kubernetes and Docker Compose phases)",
    example: "registry.example.com/app/backend:1.4.2",
  },
  {
    key: "domain",
    secret: false,
    required: false,
    requiredWhen: (t) => !!t.compose,
    description: "public domain of the API (Traefik routes and certificates)",
    example: "api.example.com",
  },
  {
    key: "acmeEmail",
    secret: false,
    required: false,
    description:
      "turns on the origin's certificate by ACME on the HAProxy nodes (phases 2-3: certbot, HTTP-01, renewed by a timer); the CA's notices go there",
    example: "oncall@example.com",
  },
  {
    key: "acmeDirectory",
    secret: false,
    required: false,
    description: "the ACME directory (default Let's Encrypt's production; its staging for a trial)",
    example: "https://acme-staging-v02.api.letsencrypt.org/directory",
    invalid: (v) => (/^https:\/\/\S+$/.test(v) ? undefined : "must be an https:// URL"),
  },
  {
    key: "dnsZone",
    secret: false,
    required: false,
    description:
      "DNS zone holding `domain`: probatio then manages its records (the public name, each generation's origin) and switches them in migrations; unset, DNS is yours",
    example: "example.com",
  },
  {
    key: "dnsProvider",
    secret: false,
    required: false,
    description: "where dnsZone is served: cloudflare (default for ProbatioVault, its CDN in front) or ovh (default for KoproGo)",
    example: "cloudflare",
    invalid: (v) => (v === "cloudflare" || v === "ovh" ? undefined : "must be cloudflare or ovh"),
  },
  {
    key: "dnsTtl",
    secret: false,
    required: false,
    description: "TTL of the records, seconds (default 60, OVH's minimum; a migration lowers a longer one to 60 before its switch)",
    example: "60",
    invalid: (v) => (/^\d+$/.test(v) && Number(v) >= 60 && Number(v) <= 86400 ? undefined : "must be a whole number of seconds, 60-86400"),
  },
  {
    key: "cloudflareZoneId",
    secret: false,
    required: false,
    description: "the zone's id in Cloudflare (dnsProvider cloudflare)",
    example: "023e105f4ecef8ad9ca31a8372d0c353",
  },
  {
    key: "cloudflareApiToken",
    secret: true,
    required: false,
    description: "Cloudflare API token allowed to edit the zone's DNS, settings and rulesets (dnsProvider cloudflare)",
    example: "$(cat cloudflare-token)",
  },
  {
    key: "dnsResolver",
    secret: false,
    required: false,
    description:
      "host:port of the DNS server a migration asks before removing the source (default the system's; the zone's own server answers without caches)",
    example: "dns100.ovh.net:53",
    invalid: (v) => (HOST_PORT.test(v) ? undefined : "must be host:port, e.g. dns100.ovh.net:53"),
  },
  {
    key: "alertEmail",
    secret: false,
    required: false,
    requiredWhen: (t) => !!t.monitoring?.alertmanager,
    description: "address Alertmanager sends alerts to",
    example: "oncall@example.com",
  },
  {
    key: "alertSmtpRelay",
    secret: false,
    required: false,
    requiredWhen: (t) => !!t.monitoring?.alertmanager,
    description: "host:port of the SMTP relay Alertmanager sends alert mail through (TLS required: 587 STARTTLS or 465)",
    example: "smtp.example.com:587",
    invalid: (v) => (HOST_PORT.test(v) && Number(v.split(":")[1]) <= 65535 ? undefined : "must be host:port, e.g. smtp.example.com:587"),
  },
  {
    key: "alertSmtpUser",
    secret: false,
    required: false,
    description: "login on the SMTP relay (default: none, the relay accepts the monitoring machine without one)",
    example: "alerts@example.com",
  },
  {
    key: "alertSmtpPassword",
    secret: true,
    required: false,
    description: "password of alertSmtpUser on the SMTP relay",
    example: "$(cat relay-password)",
  },
  {
    key: "lbMaxConnections",
    secret: false,
    required: false,
    description:
      "concurrent connections each HAProxy node accepts (default: the seed's peak req/s x the latency alert's seconds; HAProxy needs 2 file descriptors each)",
    example: "30000",
    invalid: (v) =>
      /^\d+$/.test(v) && Number(v) >= 100 && Number(v) <= 1_000_000 ? undefined : "must be a whole number from 100 to 1000000",
  },
  {
    key: "backendCount",
    secret: false,
    required: false,
    description:
      "how many backends run where the phase has an autoscaling rule (ProbatioVault 3: 3-10; set by `probatio autoscale`, default the minimum)",
    example: "4",
    invalid: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 100 ? undefined : "must be a whole number from 1 to 100"),
  },
  {
    key: "vendorSources",
    secret: false,
    required: false,
    description:
      "JSON: mirrors of the software probatio installs from outside Debian (gitlabRunner, grafana: apt repositories; npmRegistry)",
    example: `'{"npmRegistry":"https://npm.example.com/"}'`,
  },
  {
    key: "releases",
    secret: false,
    required: false,
    description: "JSON: the application release each application runs (set by `probatio deploy`), with the one before it",
    example: `'{"backend":{"url":"https://releases.example.com/backend-1.4.2.tar.gz","sha256":"<64 hex>"}}'`,
  },
  {
    key: "hsmIdentityUrn",
    secret: false,
    required: false,
    requiredWhen: (t) => !!t.hsm,
    description: "OVH IAM identity URN allowed to use the HSM's mTLS credential",
    example: "urn:v1:eu:identity:account:xx1111-ovh",
  },
  {
    key: "priceOverrides",
    secret: false,
    required: false,
    description: "this stack's own prices over the price table (`probatio prices` lists the keys), EUR excl. VAT per month",
    example: `'{"d2-8": 21.5}'`,
    invalid: invalidOverrides,
  },
];
