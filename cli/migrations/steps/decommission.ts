/** Removes the source once DNS leads to the target; protected stores stay in the cloud. */
import { ExitCode, ProbatioError } from "../../../lib/errors";
import { releaseFromState, setMigration } from "../../automation/stackState";
import * as traffic from "../traffic";
import { engineUp, isTargetUrn, StepRunner } from "./context";

export const decommission: StepRunner = {
  kind: "decommission",
  async run(ctx, step, state) {
    const { stack, plan } = ctx;
    // DNS must lead to the target before the source's entry points go.
    const cfg = await stack.getAllConfig();
    const domain = cfg["probatio:domain"]?.value;
    if (ctx.skipDnsCheck) ctx.log("    DNS check skipped (--skip-dns-check)");
    else if (!domain) ctx.log("    no `domain` set on the stack: probatio cannot check that DNS points at the target; make sure it does");
    else {
      const out = await stack.outputs();
      const src = out.source?.value as { loadBalancer?: string } | undefined;
      const addresses = await traffic.checkDnsMoved(
        domain,
        src?.loadBalancer ? [src.loadBalancer] : [],
        typeof out.loadBalancer?.value === "string" ? out.loadBalancer.value : undefined,
      );
      ctx.log(`    ${domain} resolves to ${addresses.join(", ")}: the target`);
    }
    // Protected data stores of the source stay in the cloud: dropped from the stack, listed for the operator.
    const kept = await releaseFromState(stack, (r) => !!r.protect && !isTargetUrn(r.urn));
    for (const k of kept)
      ctx.log(`    kept in the cloud (protected, no longer managed): ${k.type} ${k.urn.split("::").pop()} ${k.id ?? ""}`);
    // First the source goes (the target keeps its place), then the target takes the root under its aliases.
    await setMigration(stack, { ...state, stage: "decommissioning" });
    const changes = await engineUp(ctx, "decommission the source");
    const generation = Number(cfg["probatio:generation"]?.value ?? "1") + 1;
    await stack.setAllConfig({ "probatio:phase": { value: String(plan.to) }, "probatio:generation": { value: String(generation) } });
    const next = { ...state, completed: [...state.completed, step.name] };
    await setMigration(stack, undefined);
    const settle = await engineUp(ctx, "the target becomes the stack's phase");
    // The only deletion allowed here is the empty NextPhase wrapper the target leaves.
    if (settle.create || (settle.delete ?? 0) > 1 || settle.replace) {
      throw new ProbatioError(
        `moving the target to the root changed resources (${JSON.stringify(settle)})`,
        "restore the state backup and report this",
        ExitCode.failure,
      );
    }
    return { state: next, detail: { kept, changes } };
  },
};
