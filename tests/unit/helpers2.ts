import { DeclaredResource, MockRunResult, runUnderMocks } from "../../offline/mockRun";
import { cloudInitFiles } from "./helpers";

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
