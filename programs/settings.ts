import { DEFAULT_REGION } from "../lib/defaults";
import * as pulumi from "@pulumi/pulumi";
import { createHmac } from "crypto";
import { RoadmapId, Topology } from "./roadmaps";

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
  /** Where alerts go (phases with Alertmanager). */
  readonly alertEmail?: string;
  /** OVH IAM identity allowed to use the HSM's mTLS credential (ProbatioVault phase 4). */
  readonly hsmIdentityUrn?: string;
  /** How many side-by-side migrations built this stack's current machines (data store names carry it). Default 1. */
  readonly generation?: number;
  /** A migration in progress (written by `probatio migrate`; its checkpoint is exported as a stack output). */
  readonly migration?: MigrationState;
}

export interface MigrationState {
  readonly roadmap: string;
  readonly from: number;
  readonly to: number;
  /** "in-place" migrations build the target only; "transitional" holds source and target. */
  readonly stage: "in-place" | "transitional" | "decommissioning";
  /** Names of the completed steps, in order. */
  readonly completed: readonly string[];
  readonly startedAt: string;
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
}

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
    key: "alertEmail",
    secret: false,
    required: false,
    requiredWhen: (t) => !!t.monitoring?.alertmanager,
    description: "address Alertmanager sends alerts to",
    example: "oncall@example.com",
  },
  {
    key: "hsmIdentityUrn",
    secret: false,
    required: false,
    requiredWhen: (t) => !!t.hsm,
    description: "OVH IAM identity URN allowed to use the HSM's mTLS credential",
    example: "urn:v1:eu:identity:account:xx1111-ovh",
  },
];

/** Derives a distinct secret for `purpose` from a base secret (one secret for the operator to keep, several on the machines). */
export function deriveSecret(base: pulumi.Input<string>, purpose: string): pulumi.Output<string> {
  return pulumi.secret(
    pulumi.output(base).apply((b) => createHmac("sha256", b).update(`probatio:${purpose}`).digest("base64url").slice(0, 32)),
  );
}

/** Reads the settings from the current stack's config (inside a Pulumi program). */
export function readSettings(): PhaseSettings {
  const config = new pulumi.Config("probatio");
  const allow = config.get("sshAllowList");
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
    domain: config.get("domain"),
    hsmIdentityUrn: config.get("hsmIdentityUrn"),
    generation: config.getNumber("generation"),
    migration: config.getObject<MigrationState>("migration"),
  };
}
