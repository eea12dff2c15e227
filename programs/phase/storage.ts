import { WormBucket } from "../../components/wormBucket";
import { PhaseContext } from "./context";

/** The legal archive: a WORM bucket whose retention can never be shortened (ProbatioVault phase 4). */
export function declareWorm(ctx: PhaseContext) {
  const spec = ctx.topology.worm;
  if (!spec) return undefined;
  const { settings } = ctx;
  const worm = new WormBucket(
    "worm",
    {
      bucketName: `${settings.stack}-legal-archive`,
      backend: settings.wormBackend ?? spec.backend,
      retentionYears: spec.retentionYears,
      mode: spec.mode,
      previousRetentionYears: settings.wormRetentionFloor,
      cloudProject: settings.cloudProject,
    },
    ctx.rootOpts,
  );
  return { bucket: worm.bucket, retentionYears: worm.retentionYears, mode: worm.mode };
}

/** A protected, versioned and encrypted Object Storage bucket for backups (KoproGo phase 4). */
export function declareBackupBucket(ctx: PhaseContext) {
  if (!ctx.topology.backupBucket) return undefined;
  const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
  const { settings } = ctx;
  const bucket = new ovh.cloudproject.Storage(
    "backups",
    {
      serviceName: settings.cloudProject,
      regionName: settings.region.replace(/[0-9]+$/, ""),
      name: `${settings.stack}-backups`,
      versioning: { status: "enabled" },
      encryption: { sseAlgorithm: "AES256" },
    },
    { ...ctx.rootOpts, protect: true },
  );
  return bucket.name;
}
