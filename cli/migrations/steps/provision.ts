/** Builds the target: in place (the stack's phase changes) or beside the source (transitional stage). */
import type { MigrationState } from "../../../programs/stackConfig";
import { releaseFromState, setMigration, setPlainConfig } from "../../automation/stackState";
import { checkpoint, guardedUp, isTargetUrn, StepRunner } from "./context";

export const provision: StepRunner = {
  kind: "provision",
  // A provisioning the cloud failed half-way has created part of the target: --rollback removes it too.
  undoUnfinished: true,
  async run(ctx, step, state) {
    const { stack, plan } = ctx;
    // The program builds the target from the stage; the step is recorded as done only once the update succeeded
    // (a cloud error half-way must leave a checkpoint that says the provisioning did not finish).
    // Side by side, the program lowers the public name's TTL from here on: the DNS switch waits out the old one from now.
    const building: MigrationState =
      plan.strategy === "in-place"
        ? { ...state, stage: "in-place" }
        : { ...state, stage: "transitional", dnsLoweredAt: state.dnsLoweredAt ?? Date.now() };
    // Provisioning only creates and updates: the engine's preview must show no replacement and no deletion.
    const changes = await guardedUp(
      ctx,
      "provision the target",
      {
        allowed: () => false,
        hint: `provisioning phase ${plan.to} must only add and update; the stack is unchanged, still in phase ${plan.from} (--rollback drops the migration)`,
      },
      async () => {
        if (plan.strategy === "in-place") setPlainConfig(stack, { "probatio:phase": String(plan.to) });
        await setMigration(stack, building);
      },
    );
    return { state: await checkpoint(ctx, building, step.name), detail: changes };
  },
  // Side by side, the target's protected data stores stay in the cloud (released from the stack); the source stays.
  // In place, a protected store the failed provisioning created (a new standby, say) is released too: rolling back
  // never deletes one, and it is listed for the operator to delete.
  async undo(ctx) {
    const { stack, plan } = ctx;
    const log = (k: { type: string; urn: string; id?: string }) =>
      ctx.log(`    kept in the cloud (protected target data store, no longer managed): ${k.type} ${k.urn.split("::").pop()} ${k.id ?? ""}`);
    if (plan.strategy === "side-by-side") {
      for (const k of await releaseFromState(stack, (r) => !!r.protect && isTargetUrn(r.urn))) log(k);
    }
    // Rolling back deletes what the provisioning created; it still never replaces data or protected stores.
    const created = new Set<string>();
    await guardedUp(
      ctx,
      "roll back the provisioning",
      {
        allowed: () => true,
        released: (c) => {
          const ours = plan.strategy === "in-place" && c.protect && c.op === "delete";
          if (ours) created.add(c.urn);
          return ours;
        },
        hint: "",
      },
      async () => {
        setPlainConfig(stack, { "probatio:phase": String(plan.from) });
        await setMigration(stack, undefined);
      },
      async () => {
        for (const k of await releaseFromState(stack, (r) => created.has(r.urn))) log(k);
      },
    );
    return true;
  },
};
