import { HsmEnclave } from "../../components/hsmEnclave";
import { ports } from "../../lib/defaults";
import { PhaseContext } from "./context";

/** The HSM (OVHcloud KMS) in its own subnet, reachable from the backend subnet (ProbatioVault phase 4). */
export function declareHsm(ctx: PhaseContext) {
  const spec = ctx.topology.hsm;
  if (!spec) return undefined;
  const sub = ctx.topology.network?.subnets ?? ctx.fail("the HSM needs the VPC's subnets");
  const hsm = new HsmEnclave(
    "hsm",
    {
      stack: ctx.settings.stack,
      // Signing keys are elliptic-curve keys; the others are symmetric (envelope encryption).
      keys: spec.keys.map((n) => ({ name: n, type: /sign/.test(n) ? ("EC" as const) : ("oct" as const) })),
      identityUrns: [ctx.settings.hsmIdentityUrn ?? ctx.fail("hsmIdentityUrn is not set")],
      hsmSubnet: sub.hsm,
      backendSubnet: sub.backend,
      port: ports.hsm,
    },
    ctx.rootOpts,
  );
  return { endpoint: hsm.endpoint, keyIds: hsm.keyIds, port: hsm.port };
}
