import { ProbatioError, ExitCode } from "../../lib/errors";
import { koprogoRoadmap } from "./koprogo";
import { probatioRoadmap } from "./probatio";
import { Phase, Roadmap, RoadmapId, Topology } from "./types";

export * from "./types";

export const roadmaps: Readonly<Record<RoadmapId, Roadmap>> = { probatio: probatioRoadmap, koprogo: koprogoRoadmap };

export function getRoadmap(id: string): Roadmap {
  const roadmap = (roadmaps as Record<string, Roadmap | undefined>)[id];
  if (!roadmap) {
    throw new ProbatioError(`unknown roadmap '${id}'`, `use one of: ${Object.keys(roadmaps).join(", ")}`, ExitCode.usage);
  }
  return roadmap;
}

export function getPhase(roadmapId: string, phase: number | string): Phase {
  const roadmap = getRoadmap(roadmapId);
  const n = typeof phase === "number" ? phase : Number(phase);
  const found = Number.isInteger(n) ? roadmap.phases.find((p) => p.phase === n) : undefined;
  if (!found) {
    const known = roadmap.phases.map((p) => p.phase).join(", ");
    throw new ProbatioError(`unknown phase '${phase}' for roadmap ${roadmapId}`, `phases of ${roadmapId}: ${known}`, ExitCode.usage);
  }
  return found;
}

/**
 * The environment a stack deploys: `explicit` if given, else the stack name if the phase has it, else the phase's
 * production environment (its first, unless the phase says otherwise).
 */
export function environmentFor(phase: Phase, stack: string, explicit?: string): { name: string; topology: Topology } {
  const names = Object.keys(phase.environments);
  if (explicit !== undefined) {
    if (!names.includes(explicit)) {
      throw new ProbatioError(
        `environment '${explicit}' is not part of ${phase.roadmap} phase ${phase.phase}`,
        `environments of this phase: ${names.join(", ")}`,
        ExitCode.usage,
      );
    }
    return { name: explicit, topology: phase.environments[explicit] };
  }
  const name = names.includes(stack) ? stack : (phase.productionEnvironment ?? names[0]);
  return { name, topology: phase.environments[name] };
}
