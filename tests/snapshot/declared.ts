/**
 * The snapshot of everything a user has deployed: for every roadmap, phase and environment, each resource's URN,
 * type, inputs (secrets masked) and protection, and each machine's user data byte for byte (with the plan's
 * placeholder secrets, never a stack's). A renamed resource or one changed byte of user data rebuilds machines on
 * the user's next `up`: the snapshot test makes such a change visible and deliberate.
 *
 * Regenerate deliberately with `npm run snapshot` and commit the diff with the change that caused it.
 */
import { environmentFor } from "../../programs/roadmaps";
import { runUnderMocks } from "../../offline/mockRun";
import { buildPhase } from "../../programs/phase";
import { planSettings } from "../../offline/plan";
import { roadmaps, RoadmapId } from "../../programs/roadmaps";

export interface SnapshotCase {
  readonly roadmap: RoadmapId;
  readonly phase: number;
  readonly environment: string;
  readonly stack: string;
}

/**
 * Every roadmap, phase and environment, on a stack named after the environment (as users name them); and a stack
 * named "prod" where the phase has no "prod" environment (it deploys the phase's default one).
 */
export function snapshotCases(): SnapshotCase[] {
  return Object.values(roadmaps).flatMap((r) =>
    r.phases.flatMap((p) => {
      const envs = Object.keys(p.environments);
      const cases = envs.map((environment) => ({ roadmap: r.id, phase: p.phase, environment, stack: environment }));
      const production = environmentFor(p, "prod").name;
      return envs.includes("prod") ? cases : [...cases, { roadmap: r.id, phase: p.phase, environment: production, stack: "prod" }];
    }),
  );
}

export const snapshotFile = (c: SnapshotCase) =>
  `${c.roadmap}-${c.phase}-${c.environment}${c.stack === c.environment ? "" : `-stack-${c.stack}`}.json`;

export async function declaredSnapshot(c: SnapshotCase): Promise<string> {
  const settings = () => planSettings({ roadmap: c.roadmap, phase: c.phase, stack: c.stack, environment: c.environment });
  const masked = await runUnderMocks(() => buildPhase(settings()) as never, { project: "probatio", stack: c.stack });
  const revealed = await runUnderMocks(() => buildPhase(settings()) as never, { project: "probatio", stack: c.stack, revealSecrets: true });
  const resources = masked.resources
    .map((r) => ({ urn: r.urn, type: r.type, protect: r.protect, retainOnDelete: r.retainOnDelete, inputs: r.inputs }))
    .sort((a, b) => String(a.urn).localeCompare(String(b.urn)));
  const userData: Record<string, string[]> = {};
  for (const [name, outs] of Object.entries(revealed.componentOutputs)) {
    if (Array.isArray(outs.userData) && outs.userData.length > 0) userData[name] = outs.userData as string[];
  }
  const sorted = Object.fromEntries(Object.entries(userData).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify({ ...c, resources, userData: sorted }, null, 1) + "\n";
}
