/**
 * The resize of a classic VPS (KoproGo 1-to-2, the seed's option 1): OVH upgrades the running machine (more vCPU,
 * memory and disk; a reboot; the address and the data kept). It is the operator's action in OVH's manager: this
 * step says what to do, and records it once the operator confirms (`--resume --resized`). The configuration of the
 * bigger plan is then delivered in place by the provisioning step.
 */
import { ExitCode, ProbatioError } from "../../../lib/errors";
import { checkpoint, StepRunner } from "./context";

export const resize: StepRunner = {
  kind: "resize",
  async run(ctx, step, state) {
    const r = ctx.plan.resize!;
    const out = await ctx.stack.outputs();
    const machines = (out.machines?.value ?? {}) as Record<string, string[]>;
    const name =
      Object.values(machines)
        .flat()
        .find((m) => m.endsWith(`-${r.machine}`)) ?? r.machine;
    if (!ctx.resized) {
      throw new ProbatioError(
        `resize ${name} to ${r.toOffer} (${r.toSize}) before the new configuration is delivered: OVH Manager > Bare Metal Cloud > VPS > ${name} > Upgrade (or the API's /vps/{serviceName}/upgrade); take a snapshot of the VPS first`,
        `then: probatio migrate ${ctx.plan.from}-to-${ctx.plan.to} --roadmap ${ctx.plan.roadmap} --stack ${ctx.stack.name} --resume --resized`,
        ExitCode.missingConfig,
      );
    }
    ctx.log(`    ${name} resized to ${r.toOffer} (${r.toSize}), as the operator confirmed`);
    return { state: await checkpoint(ctx, state, step.name), detail: { machine: name, plan: r.toOffer } };
  },
  // OVH does not downgrade a VPS: the machine stays bigger; rolling back the provisioning puts the previous configuration back.
  async undo(ctx) {
    ctx.log(
      `    ${ctx.plan.resize!.machine} stays on ${ctx.plan.resize!.toOffer} (OVH cannot downgrade a VPS); the previous configuration is delivered back`,
    );
    return false;
  },
};
