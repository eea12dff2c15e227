/** The DNS switch: the public name's record moves to the target's origin, and the step waits out the TTLs. */
import { switchWaits } from "../../../components/edge/records";
import { DEFAULT_DNS } from "../../../lib/defaults";
import { setMigration } from "../../automation/stackState";
import { checkpoint, guardedUp, StepRunner } from "./context";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const switchDns: StepRunner = {
  kind: "dns",
  async run(ctx, step, state) {
    const { stack } = ctx;
    const cfg = await stack.getAllConfig();
    const zone = cfg["probatio:dnsZone"]?.value;
    const next = { ...state, dns: "target" as const, completed: [...state.completed, step.name] };
    if (!zone) {
      const out = await stack.outputs();
      ctx.log(
        `    probatio does not manage this stack's DNS (no dnsZone): point ${cfg["probatio:domain"]?.value ?? "the public name"} at the target's entry point ${JSON.stringify(out.loadBalancer?.value ?? out.database?.value ?? "")} yourself, and wait for its TTL`,
      );
      return { state: await checkpoint(ctx, { ...state, dns: "target" }, step.name), detail: { managed: false } };
    }
    const ttl = Number(cfg["probatio:dnsTtl"]?.value ?? DEFAULT_DNS.ttlSeconds);
    const before = await stack.outputs();
    const proxiedBefore = !!(before.edge?.value as { proxied?: boolean } | undefined)?.proxied;
    const waitBefore = switchWaits({ configuredTtl: ttl, loweredAt: state.dnsLoweredAt, now: Date.now(), proxied: false }).beforeSeconds;
    if (waitBefore > 0 && !proxiedBefore) {
      ctx.log(
        `    waiting ${waitBefore} s: resolvers may still hold the record's old ${ttl} s TTL from before the provisioning lowered it`,
      );
      await sleep(waitBefore * 1000);
    }
    // One update: the public name's record (content, and Cloudflare's proxy and TTL as the target's phase has them),
    // and the checkpoint that records the switch. Nothing is replaced or deleted.
    const changes = await guardedUp(
      ctx,
      "switch DNS to the target",
      {
        allowed: () => false,
        hint: "the DNS switch only updates the public name's record; the stack is unchanged (--resume after fixing)",
      },
      () => setMigration(stack, next),
    );
    const out = await stack.outputs();
    const edge = out.edge?.value as { name: string; live: string; proxied: boolean; ttl: number } | undefined;
    const waits = switchWaits({ configuredTtl: ttl, loweredAt: state.dnsLoweredAt, now: Date.now(), proxied: !!edge?.proxied });
    ctx.log(`    ${edge?.name} now points at ${edge?.live}${edge?.proxied ? " (behind Cloudflare's proxy: at once)" : ""}`);
    const after = ctx.traffic.dnsWaitSeconds ?? waits.afterSeconds;
    if (after > 0) {
      ctx.log(
        `    waiting ${after} s (${ctx.traffic.dnsWaitSeconds === undefined ? "the record's TTL" : "--dns-wait"}) for resolvers to forget the source`,
      );
      await sleep(after * 1000);
    }
    return { state: next, detail: { managed: true, live: edge?.live, proxied: edge?.proxied, waitedSeconds: waitBefore + after, changes } };
  },
};
