import * as pulumi from "@pulumi/pulumi";
import { ArgumentError } from "./validation";

export interface WormBucketArgs {
  /** Bucket name. */
  readonly bucketName: string;
  /**
   * "ovh" (Object Storage with Object Lock, sovereign) or "aws" (S3 Object Lock).
   * @default "ovh"
   */
  readonly backend?: "ovh" | "aws";
  /**
   *
   * @default retention in years. Default 10 (legal archives)
   */
  readonly retentionYears?: number;
  /**
   * "COMPLIANCE" (nobody can delete, not even root) or "GOVERNANCE".
   * @default "COMPLIANCE"
   */
  readonly mode?: "COMPLIANCE" | "GOVERNANCE";
  /**
   * Must be true to accept GOVERNANCE mode (which privileged users can bypass).
   * @default false
   */
  readonly allowGovernance?: boolean;
  /**
   * Retention already applied to this bucket, if any: a shorter one is refused.
   * @default none
   */
  readonly previousRetentionYears?: number;
  /** OVH Public Cloud project id (ovh). for ovh. */
  readonly cloudProject?: pulumi.Input<string>;
  /** Region: OVH storage region (default "GRA") or AWS region (default "eu-west-3", Paris). */
  readonly region?: string;
  /**
   * KMS key for SSE (aws).
   * @default the AWS-managed key
   */
  readonly kmsKeyId?: pulumi.Input<string>;
  /**
   * Days before objects move to colder storage (aws lifecycle).
   * @default 90
   */
  readonly transitionDays?: number;
}

export function validateWormBucketArgs(args: WormBucketArgs): void {
  const years = args.retentionYears ?? 10;
  if (!Number.isInteger(years) || years < 1 || years > 100) {
    throw new ArgumentError("WormBucket", "retentionYears", `must be a whole number of years between 1 and 100 (got ${years})`);
  }
  if ((args.mode ?? "COMPLIANCE") === "GOVERNANCE" && !args.allowGovernance) {
    throw new ArgumentError(
      "WormBucket",
      "mode",
      "GOVERNANCE lets privileged users delete locked archives; set allowGovernance: true to accept that",
    );
  }
  if (args.previousRetentionYears !== undefined && years < args.previousRetentionYears) {
    throw new ArgumentError(
      "WormBucket",
      "retentionYears",
      `cannot shorten an existing retention (${args.previousRetentionYears} years -> ${years} years)`,
    );
  }
  if (!/^[a-z0-9][a-z0-9.-]{2,62}$/.test(args.bucketName))
    throw new ArgumentError("WormBucket", "bucketName", `is not a valid bucket name (got '${args.bucketName}')`);
  if ((args.backend ?? "ovh") === "ovh" && !args.cloudProject)
    throw new ArgumentError("WormBucket", "cloudProject", "is required for the ovh backend");
}

/** Write-once legal archive storage. Protected, and retained even if removed from the program. */
export class WormBucket extends pulumi.ComponentResource {
  public readonly bucket: pulumi.Output<string>;
  public readonly retentionYears: number;
  public readonly mode: string;

  constructor(name: string, args: WormBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("probatio:storage:WormBucket", name, {}, opts);
    validateWormBucketArgs(args);
    const years = args.retentionYears ?? 10;
    const mode = args.mode ?? "COMPLIANCE";
    this.retentionYears = years;
    this.mode = mode;
    const keep = { parent: this, protect: true, retainOnDelete: true };
    if ((args.backend ?? "ovh") === "ovh") {
      const ovh = require("@ovhcloud/pulumi-ovh") as typeof import("@ovhcloud/pulumi-ovh");
      const bucket = new ovh.cloudproject.Storage(
        `${name}-bucket`,
        {
          serviceName: args.cloudProject,
          regionName: args.region ?? "GRA",
          name: args.bucketName,
          versioning: { status: "enabled" },
          encryption: { sseAlgorithm: "AES256" },
          objectLock: { status: "enabled", rule: { mode: mode.toLowerCase(), period: `P${years}Y` } },
        },
        keep,
      );
      this.bucket = bucket.name;
    } else {
      const aws = require("@pulumi/aws") as typeof import("@pulumi/aws");
      const bucket = new aws.s3.Bucket(
        `${name}-bucket`,
        { bucket: args.bucketName, objectLockEnabled: true, region: args.region ?? "eu-west-3" },
        keep,
      );
      new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, keep);
      new aws.s3.BucketObjectLockConfiguration(
        `${name}-lock`,
        {
          bucket: bucket.id,
          objectLockEnabled: "Enabled",
          rule: { defaultRetention: { mode, years } },
        },
        keep,
      );
      new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-sse`,
        {
          bucket: bucket.id,
          rules: [
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyId }, bucketKeyEnabled: true },
          ],
        },
        keep,
      );
      new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        keep,
      );
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
          bucket: bucket.id,
          rules: [
            {
              id: "archive",
              status: "Enabled",
              filter: {},
              transitions: [{ days: args.transitionDays ?? 90, storageClass: "GLACIER_IR" }],
              abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
            },
          ],
        },
        keep,
      );
      this.bucket = bucket.bucket;
    }
    this.registerOutputs({ bucket: this.bucket, retentionYears: years, mode });
  }
}
