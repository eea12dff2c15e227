/** Removes the source once DNS leads to the target; protected stores stay in the cloud. */
import { ExitCode, ProbatioError } from "../../../lib/errors";
import { releaseFromState, setMigration, setPlainConfig } from "../../automation/stackState";
import * as traffic from "../traffic";
import { guardedUp, isTargetUrn, StepRunner } from "./context";

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
      const record = out.edge?.value as { live: string; proxied: boolean } | undefined;
      if (record && typeof out.origin?.value === "string") {
        // probatio manages the name: its CNAME must name the target's origin.
        const resolveCname = await traffic.cnameResolver(cfg["probatio:dnsResolver"]?.value);
        ctx.log(`    ${await traffic.checkManagedDnsMoved({ domain, targetOrigin: out.origin.value, record, resolveCname })}`);
      } else {
        const src = out.source?.value as { loadBalancer?: string } | undefined;
        const addresses = await traffic.checkDnsMoved(
          domain,
          src?.loadBalancer ? [src.loadBalancer] : [],
          typeof out.loadBalancer?.value === "string" ? out.loadBalancer.value : undefined,
        );
        ctx.log(`    ${domain} resolves to ${addresses.join(", ")}: the target`);
      }
    }
    // First the source goes (the target keeps its place), then the target takes the root under its aliases. The
    // preview may delete the source's resources only; its protected data stores are released from the stack
    // (left in the cloud, listed for the operator) once the preview passed.
    const source = (c: { urn: string }) => !isTargetUrn(c.urn);
    const kept: Awaited<ReturnType<typeof releaseFromState>> = [];
    const changes = await guardedUp(
      ctx,
      "decommission the source",
      {
        allowed: (c) => c.op === "delete" && source(c),
        released: (c) => c.protect && source(c),
        hint: "decommissioning deletes the source's resources only; the stack is unchanged (--resume after fixing, or restore the state backup)",
      },
      () => setMigration(stack, { ...state, stage: "decommissioning" }),
      async () => {
        kept.push(...(await releaseFromState(stack, (r) => !!r.protect && !isTargetUrn(r.urn))));
        for (const k of kept)
          ctx.log(`    kept in the cloud (protected, no longer managed): ${k.type} ${k.urn.split("::").pop()} ${k.id ?? ""}`);
      },
    );
    const generation = Number(cfg["probatio:generation"]?.value ?? "1") + 1;
    const next = { ...state, completed: [...state.completed, step.name] };
    // The target takes the root under its aliases: the only deletion is the empty NextPhase wrapper it leaves.
    const settle = await guardedUp(
      ctx,
      "the target becomes the stack's phase",
      {
        allowed: (c) => c.op === "delete" && c.type === "probatio:migration:NextPhase",
        hint: "the target's resources must keep their place under their aliases; restore the state backup and report this",
      },
      async () => {
        setPlainConfig(stack, { "probatio:phase": String(plan.to), "probatio:generation": String(generation) });
        await setMigration(stack, undefined);
      },
    );
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
