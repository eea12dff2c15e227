/**
 * The zero-trust and compliance rules as data over declared resources (type, name, inputs, protect), so that the
 * offline plan and the engine's policy pack apply the same ones. Pure: a rule reads one resource (and, where it
 * needs it, the others) and returns what is wrong with it, each message naming the fix.
 */
import { ROUTER_INTERFACE_TAG } from "../lib/defaults";

export type EnforcementLevel = "mandatory" | "advisory";

export interface PolicyResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly protect: boolean;
}

export interface Rule {
  readonly name: string;
  readonly description: string;
  readonly level: EnforcementLevel;
  /** The rule reads the other resources too (the engine runs it on the whole stack, after the resources'). */
  readonly needsAll?: boolean;
  /** The problems of `r` (an empty list when it complies or the rule does not apply to it). */
  check(r: PolicyResource, all: readonly PolicyResource[]): string[];
}

/** The minimum WORM retention the seeds require (legally binding archives: 10 years). */
export const MIN_WORM_RETENTION_YEARS = 10;

const WORLD = new Set(["0.0.0.0/0", "::/0"]);
/** The only ports the world may reach: the entry point's HTTP (ACME's HTTP-01, the redirect) and HTTPS. */
export const WORLD_PORTS = [80, 443] as const;

/**
 * OVHcloud regions in France (Public Cloud's GRA11, its storage's GRA, KMS's eu-west-rbx); other EU ones; anything else
 * is outside the EU (UK1 and ca-east-bhs included).
 */
const FRANCE = /^(GRA|SBG|RBX|PAR)|^eu-west-(gra|sbg|rbx|par)/i;
const EUROPE = /^(DE|WAW)|^eu-/i;

/** Data stores: deleting or replacing one loses data. */
const DATA_STORES = new Set([
  "ovh:CloudProject/database:Database",
  "ovh:CloudProject/storage:Storage",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "ovh:Okms/okms:Okms",
  "ovh:Okms/serviceKey:ServiceKey",
]);

const SECRET_KEY = /(password|passphrase|secret|token|privatekey|apikey|accesskey)$/i;
/** How the mocks and the engine show a secret input. */
const MASKED = new Set(["[secret]", "[unknown]", ""]);

function regionOf(r: PolicyResource): string | undefined {
  const v = r.inputs.region ?? r.inputs.regionName;
  return typeof v === "string" ? v : undefined;
}

/** Every string value under `value`, with its key path, for the keys that name a secret. */
function plaintextSecrets(value: unknown, path: string[] = []): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => plaintextSecrets(v, [...path, String(i)]));
  if (value && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
      if (typeof v === "string" && SECRET_KEY.test(k) && !MASKED.has(v)) return [[...path, k].join(".")];
      return plaintextSecrets(v, [...path, k]);
    });
  }
  return [];
}

function retentionYears(period: unknown): number | undefined {
  const m = typeof period === "string" ? /^P(\d+)([YD])$/.exec(period) : null;
  if (!m) return undefined;
  return m[2] === "Y" ? Number(m[1]) : Number(m[1]) / 365;
}

export const rules: readonly Rule[] = [
  {
    name: "no-world-ingress",
    description: `Nothing is reachable from the whole internet but the entry point's ports ${WORLD_PORTS.join(" and ")}.`,
    level: "mandatory",
    check(r) {
      if (r.type !== "openstack:networking/secGroupRule:SecGroupRule") return [];
      const i = r.inputs;
      if (i.direction !== "ingress" || !WORLD.has(String(i.remoteIpPrefix ?? ""))) return [];
      const lo = Number(i.portRangeMin ?? 0);
      const hi = Number(i.portRangeMax ?? 65535);
      if (lo === hi && (WORLD_PORTS as readonly number[]).includes(lo)) return [];
      return [
        `opens ${i.protocol ?? "every protocol"} ${lo === hi ? lo : `${lo}-${hi}`} to ${i.remoteIpPrefix}: only ${WORLD_PORTS.join("/")} may be; give the rule the source tier's subnet (or the SSH allow-list) instead`,
      ];
    },
  },
  {
    name: "instances-fenced",
    description: "Every Public Cloud instance (and every network port a machine uses) is in its tier's security group.",
    level: "mandatory",
    check(r) {
      if (r.type === "openstack:networking/port:Port") {
        // A router's interface (an isolated tier's gateway): OpenStack applies no group to it; it carries no machine.
        const tags = (r.inputs.tags as unknown[] | undefined) ?? [];
        if (tags.includes(ROUTER_INTERFACE_TAG) && r.inputs.portSecurityEnabled === false) return [];
        const ids = r.inputs.securityGroupIds;
        return Array.isArray(ids) && ids.length > 0
          ? []
          : ["is a port in no security group (OpenStack gives it the project's 'default' group): give it its machine's group"];
      }
      if (r.type !== "openstack:compute/instance:Instance") return [];
      const groups = r.inputs.securityGroups;
      if (Array.isArray(groups) && groups.length > 0) return [];
      // An instance attached only through ports of its own is fenced by the ports' groups (checked on the ports).
      const networks = (r.inputs.networks as { port?: unknown }[] | undefined) ?? [];
      if (networks.length > 0 && networks.every((n) => !!n.port)) return [];
      return ["is in no security group (OpenStack's 'default' group lets its members talk freely): put it in its tier's group"];
    },
  },
  {
    name: "managed-database-not-open",
    description: "The managed database is never open to 0.0.0.0/0.",
    level: "mandatory",
    check(r) {
      if (r.type !== "ovh:CloudProject/database:Database") return [];
      const ips = (r.inputs.ipRestrictions as { ip?: string }[] | undefined) ?? [];
      if (ips.length === 0) return ["has no IP restriction: restrict it to the subnet of its clients (the application's nodes)"];
      return ips.filter((x) => WORLD.has(String(x.ip))).map((x) => `is open to ${x.ip}: restrict it to the subnet of its clients`);
    },
  },
  {
    name: "data-stores-protected",
    description: "Databases, buckets and KMS keys are protected: the engine refuses to delete or replace them.",
    level: "mandatory",
    check(r) {
      return DATA_STORES.has(r.type) && !r.protect ? ["is not protected: declare it with `protect: true`"] : [];
    },
  },
  {
    name: "worm-compliance",
    description: `WORM archives: object lock in compliance mode for at least ${MIN_WORM_RETENTION_YEARS} years, versioning and encryption on.`,
    level: "mandatory",
    check(r) {
      if (r.type !== "ovh:CloudProject/storage:Storage" || !r.inputs.objectLock) return [];
      const lock = r.inputs.objectLock as { status?: string; rule?: { mode?: string; period?: string } };
      const problems: string[] = [];
      if (lock.status !== "enabled") problems.push("has its object lock disabled: enable it");
      if (String(lock.rule?.mode ?? "").toLowerCase() !== "compliance")
        problems.push(`locks in ${lock.rule?.mode ?? "no"} mode: use compliance (governance lets an administrator delete)`);
      const years = retentionYears(lock.rule?.period);
      if (years === undefined || years < MIN_WORM_RETENTION_YEARS)
        problems.push(`retains ${lock.rule?.period ?? "nothing"}: at least P${MIN_WORM_RETENTION_YEARS}Y`);
      if ((r.inputs.versioning as { status?: string } | undefined)?.status !== "enabled") problems.push("has versioning off: enable it");
      if (!(r.inputs.encryption as { sseAlgorithm?: string } | undefined)?.sseAlgorithm)
        problems.push("is not encrypted: set sseAlgorithm");
      return problems;
    },
  },
  {
    name: "region-sovereignty",
    description: "OVHcloud resources in France; outside the EU refused; AWS resources flagged (US law reaches them).",
    level: "mandatory",
    check(r) {
      const region = regionOf(r);
      if (r.type.startsWith("aws:")) return [];
      if (!region || (!r.type.startsWith("ovh:") && !r.type.startsWith("openstack:"))) return [];
      if (FRANCE.test(region) || EUROPE.test(region)) return [];
      return [`is in ${region}, outside the EU: choose a region in France (GRA, SBG, RBX, PAR)`];
    },
  },
  {
    name: "region-france",
    description: "OVHcloud resources in France by default (the SecNumCloud qualification is French).",
    level: "advisory",
    check(r) {
      const region = regionOf(r);
      if (!region || !(r.type.startsWith("ovh:") || r.type.startsWith("openstack:"))) return [];
      return !FRANCE.test(region) && EUROPE.test(region) ? [`is in ${region}: in the EU, but not in France`] : [];
    },
  },
  {
    name: "aws-sovereignty",
    description: "Any AWS resource is subject to US law (CLOUD Act): an exception to the sovereign promise, said.",
    level: "advisory",
    check(r) {
      return r.type.startsWith("aws:") && r.type !== "pulumi:providers:aws"
        ? ["is an AWS resource: subject to the CLOUD Act; prefer OVHcloud's equivalent where the promise is sovereignty"]
        : [];
    },
  },
  {
    name: "cloudflare-proxy-sovereignty",
    description:
      "Cloudflare's proxy (a US company) terminates TLS and sees every request in clear: an exception to the SecNumCloud promise, said.",
    level: "advisory",
    check(r) {
      return r.type === "cloudflare:index/dnsRecord:DnsRecord" && r.inputs.proxied === true
        ? [
            `${String(r.inputs.name)} is proxied by Cloudflare, which decrypts the traffic outside the EU's jurisdiction; for the SecNumCloud promise set dnsProvider ovh (DNS only) or proxied off`,
          ]
        : [];
    },
  },
  {
    name: "kubernetes-workload-hardened",
    description: "Containers run as non-root, without privilege escalation, with CPU and memory limits.",
    level: "mandatory",
    check(r) {
      if (r.type !== "kubernetes:apps/v1:Deployment") return [];
      const spec = (r.inputs.spec as { template?: { spec?: { containers?: Record<string, unknown>[] } } })?.template?.spec;
      return (spec?.containers ?? []).flatMap((c) => {
        const sc = (c.securityContext ?? {}) as { runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean };
        const limits = ((c.resources ?? {}) as { limits?: { cpu?: string; memory?: string } }).limits ?? {};
        const problems: string[] = [];
        if (sc.runAsNonRoot !== true) problems.push(`container ${c.name} may run as root: set securityContext.runAsNonRoot`);
        if (sc.allowPrivilegeEscalation !== false)
          problems.push(`container ${c.name} may escalate privileges: set allowPrivilegeEscalation false`);
        if (!limits.cpu || !limits.memory) problems.push(`container ${c.name} has no CPU or memory limit: set resources.limits`);
        return problems;
      });
    },
  },
  {
    name: "kubernetes-default-deny",
    description: "A namespace with workloads has a default-deny NetworkPolicy (ingress and egress).",
    level: "mandatory",
    needsAll: true,
    check(r, all) {
      if (r.type !== "kubernetes:apps/v1:Deployment") return [];
      // At the end of an update the engine may hand a stack policy a resource without its properties (seen for
      // Kubernetes objects whose provider's configuration is not known yet): nothing to judge, nothing said.
      if (r.inputs.metadata === undefined && r.inputs.spec === undefined) return [];
      const ns = (r.inputs.metadata as { namespace?: string } | undefined)?.namespace ?? "default";
      const denies = all.some((p) => {
        if (p.type !== "kubernetes:networking.k8s.io/v1:NetworkPolicy") return false;
        const meta = p.inputs.metadata as { namespace?: string } | undefined;
        // What the engine hands a stack policy may lack the spec (a provider's outputs): no spec denies nothing.
        const spec = p.inputs.spec as
          { podSelector?: Record<string, unknown>; policyTypes?: string[]; ingress?: unknown; egress?: unknown } | undefined;
        if (!spec || typeof spec !== "object") return false;
        const selectsAll = !spec.podSelector || Object.keys(spec.podSelector).length === 0;
        return (
          (meta?.namespace ?? "default") === ns &&
          selectsAll &&
          !spec.ingress &&
          !spec.egress &&
          ["Ingress", "Egress"].every((t) => Array.isArray(spec.policyTypes) && spec.policyTypes.includes(t))
        );
      });
      return denies
        ? []
        : [`runs in namespace ${ns}, which has no default-deny NetworkPolicy: add one (empty podSelector, both policy types)`];
    },
  },
  {
    name: "no-plaintext-secret",
    description: "No secret in plaintext in any input (passwords, tokens, keys): they are Pulumi secrets.",
    level: "mandatory",
    check(r) {
      return plaintextSecrets(r.inputs).map(
        (path) => `has ${path} in plaintext: pass it as a secret (pulumi.secret, or config set --secret)`,
      );
    },
  },
];
