/** Helpers of the unit tests: the real program or components under Pulumi's mocks, and what they declared. */
import { DeclaredResource, MockRunResult, runUnderMocks } from "../offline/mockRun";
import { planPhase, PlanResult } from "../offline/plan";
import { RoadmapId } from "../programs/roadmaps";

export async function plan(roadmap: RoadmapId, phase: number, stack = "prod", environment?: string): Promise<PlanResult> {
  return planPhase({ roadmap, phase, stack, environment });
}

export function named(p: { resources: DeclaredResource[] }, name: string): DeclaredResource {
  const r = p.resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource named ${name}; have ${p.resources.map((x) => x.name).join(", ")}`);
  return r;
}

/** Parses the #cloud-config of a machine into its files by path. */
export function cloudInitFiles(userData: string): Record<string, string> {
  const { parse } = require("yaml") as typeof import("yaml");
  const doc = parse(userData.replace(/^#cloud-config\n/, ""));
  return Object.fromEntries((doc.write_files ?? []).map((f: { path: string; content: string }) => [f.path, f.content]));
}

/** Runs a snippet that builds components under mocks, secrets revealed (for asserting rendered configs). */
export function mock(build: () => unknown): Promise<MockRunResult> {
  return runUnderMocks(() => ({ result: build() as never }), { project: "probatio", stack: "prod", revealSecrets: true });
}

export function byType(run: { resources: DeclaredResource[] }, type: string): DeclaredResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** The rendered files of machine i of a VpsFleet component (from its registered outputs). */
export function machineFiles(run: MockRunResult, fleet: string, i = 0): Record<string, string> {
  const ud = run.componentOutputs[fleet]?.userData as string[] | undefined;
  if (!ud) throw new Error(`no fleet ${fleet}; have ${Object.keys(run.componentOutputs).join(", ")}`);
  return cloudInitFiles(ud[i]);
}
