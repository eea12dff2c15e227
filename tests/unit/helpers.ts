import { DeclaredResource } from "../../offline/mockRun";
import { planPhase, PlanResult } from "../../offline/plan";
import { RoadmapId } from "../../programs/roadmaps";

export async function plan(roadmap: RoadmapId, phase: number, stack = "prod", environment?: string): Promise<PlanResult> {
  return planPhase({ roadmap, phase, stack, environment });
}

export function ofType(p: { resources: DeclaredResource[] }, type: string): DeclaredResource[] {
  return p.resources.filter((r) => r.type === type);
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
