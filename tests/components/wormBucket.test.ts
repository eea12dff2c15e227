import { byType, mock } from "../helpers";
import { validateWormBucketArgs, WormBucket } from "../../components/wormBucket";

describe("WormBucket", () => {
  test("ovh (default): Object Lock in compliance mode for 10 years, versioned, encrypted, protected and retained on delete", async () => {
    const run = await mock(() => new WormBucket("worm", { bucketName: "prod-legal-archive", cloudProject: "proj" }));
    const b = byType(run, "ovh:CloudProject/storage:Storage")[0];
    expect(b.inputs).toMatchObject({
      name: "prod-legal-archive",
      versioning: { status: "enabled" },
      encryption: { sseAlgorithm: "AES256" },
      objectLock: { status: "enabled", rule: { mode: "compliance", period: "P10Y" } },
    });
    expect(b.protect).toBe(true);
    expect(b.retainOnDelete).toBe(true);
  });

  test("aws: object lock at creation, COMPLIANCE 10 years, versioning, KMS encryption, public access blocked, lifecycle", async () => {
    const run = await mock(() => new WormBucket("worm", { bucketName: "prod-legal-archive", backend: "aws" }));
    expect(byType(run, "aws:s3/bucket:Bucket")[0].inputs).toMatchObject({
      bucket: "prod-legal-archive",
      objectLockEnabled: true,
      region: "eu-west-3",
    });
    expect(byType(run, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")[0].inputs).toMatchObject({
      rule: { defaultRetention: { mode: "COMPLIANCE", years: 10 } },
    });
    expect(byType(run, "aws:s3/bucketVersioning:BucketVersioning")[0].inputs).toMatchObject({
      versioningConfiguration: { status: "Enabled" },
    });
    expect(byType(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0].inputs).toMatchObject({
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
    });
    expect(byType(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0].inputs).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(byType(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")).toHaveLength(1);
    expect(run.resources.filter((r) => r.custom).every((r) => r.protect && r.retainOnDelete)).toBe(true);
  });

  test.each([
    [{ mode: "GOVERNANCE" }, "argument 'mode' GOVERNANCE lets privileged users delete locked archives"],
    [
      { retentionYears: 5, previousRetentionYears: 10 },
      "argument 'retentionYears' cannot shorten an existing retention (10 years -> 5 years)",
    ],
    [{ retentionYears: 0 }, "argument 'retentionYears' must be a whole number of years between 1 and 100"],
    [{ cloudProject: undefined }, "argument 'cloudProject' is required for the ovh backend"],
  ])("validation refuses %j", (bad, message) => {
    expect(() => validateWormBucketArgs({ bucketName: "b-archive", cloudProject: "p", ...(bad as object) })).toThrow(message);
  });

  test("governance is accepted only when explicitly allowed", () => {
    expect(() =>
      validateWormBucketArgs({ bucketName: "b-archive", cloudProject: "p", mode: "GOVERNANCE", allowGovernance: true }),
    ).not.toThrow();
  });
});
