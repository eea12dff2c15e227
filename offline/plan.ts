import { DEFAULT_REGION } from "../lib/defaults";
import * as pulumi from "@pulumi/pulumi";
import { estimatePhase, Estimate } from "./estimate";
import { DeclaredResource, runUnderMocks } from "./mockRun";
import { evaluatePolicies, PolicyReport } from "../policy/evaluate";
import { SeedRuleCoverage, zeroTrustCoverage } from "./zeroTrust";
import { buildPhase } from "../programs/phase";
import { environmentFor, getPhase, RoadmapId } from "../programs/roadmaps";
import { defaultDnsProvider, EdgeSettings, PhaseSettings } from "../programs/settings";
import { DEFAULT_DNS } from "../lib/defaults";

/** The offline plan's application password (the boot tests' machines are rendered with it). Not a secret of anyone's. */
export const PLAN_DB_PASSWORD = "plan-placeholder-password";

export interface PlanRequest {
  readonly roadmap: RoadmapId;
  readonly phase: number;
  readonly stack: string;
  readonly environment?: string;
  /** Show secret values instead of "[secret]" (only `render` does, for the files it writes). */
  readonly revealSecrets?: boolean;
  /** Settings a stack would set (e.g. mirrors of the vendors' sources), over the offline ones. */
  readonly overrides?: Partial<PhaseSettings>;
}

export interface PlanResult {
  readonly roadmap: RoadmapId;
  readonly phase: number;
  readonly stack: string;
  readonly environment: string;
  readonly resources: DeclaredResource[];
  readonly estimate: Estimate;
  /** The zero-trust and compliance rules (policy/rules.ts) over what the phase declares. */
  readonly policy: PolicyReport;
  /** For each of the seed's zero-trust rules (phase 4's tiers), what enforces it; empty for other phases. */
  readonly zeroTrust: SeedRuleCoverage[];
  readonly componentOutputs: Record<string, Record<string, unknown>>;
  readonly componentOutputsByUrn: Record<string, Record<string, unknown>>;
}

/** Offline settings: no credentials; secrets are placeholders wrapped as secrets. */
export function planSettings(req: PlanRequest): PhaseSettings {
  return {
    roadmap: req.roadmap,
    phase: req.phase,
    stack: req.stack,
    environment: req.environment,
    region: DEFAULT_REGION,
    cloudProject: "plan-cloud-project",
    sshAllowList: [],
    dbPassword: pulumi.secret(PLAN_DB_PASSWORD),
    wormBackend: undefined,
    backendImage: "registry.example.com/app/backend:plan",
    alertEmail: "oncall@example.com",
    alertSmtp: { relay: "smtp.example.com:587" },
    domain: "api.example.com",
    edge: planEdge(req.roadmap),
    hsmIdentityUrn: "urn:v1:eu:identity:account:plan-ovh",
    ...req.overrides,
  };
}

/** The plan shows a stack that manages its DNS, on its roadmap's default provider (placeholder credentials). */
function planEdge(roadmap: RoadmapId): EdgeSettings {
  const zone = "example.com";
  return defaultDnsProvider(roadmap) === "cloudflare"
    ? {
        zone,
        ttl: DEFAULT_DNS.ttlSeconds,
        provider: { kind: "cloudflare", zoneId: "plan-cloudflare-zone", apiToken: pulumi.secret("plan-cloudflare-token") },
      }
    : { zone, ttl: DEFAULT_DNS.ttlSeconds, provider: { kind: "ovh" } };
}

/** Runs the real phase program under Pulumi's mocks and returns what it declares, with the estimate. */
export async function planPhase(req: PlanRequest): Promise<PlanResult> {
  const phase = getPhase(req.roadmap, req.phase);
  const env = environmentFor(phase, req.stack, req.environment);
  const run = await runUnderMocks(() => buildPhase(planSettings(req)) as unknown as Record<string, unknown>, {
    project: "probatio",
    stack: req.stack,
    revealSecrets: req.revealSecrets,
  });
  return {
    roadmap: phase.roadmap,
    phase: phase.phase,
    stack: req.stack,
    environment: env.name,
    resources: run.resources,
    estimate: estimatePhase(phase, env.name),
    policy: evaluatePolicies(run.resources),
    zeroTrust: zeroTrustCoverage(run.resources),
    componentOutputs: run.componentOutputs,
    componentOutputsByUrn: run.componentOutputsByUrn,
  };
}
