import { ExitCode, ProbatioError } from "../../lib/errors";

/** Database URLs come from the environment, so that passwords never show in `ps`. */
export function databaseUrls(): { source: string; target: string; sourceFromTarget?: string } {
  const source = process.env.PROBATIO_SOURCE_DB;
  const target = process.env.PROBATIO_TARGET_DB;
  if (!source || !target) {
    throw new ProbatioError(
      "PROBATIO_SOURCE_DB and PROBATIO_TARGET_DB must be set (postgres:// URLs of the source and target databases)",
      "export PROBATIO_SOURCE_DB='postgres://owner:...@source-host:5432/app' PROBATIO_TARGET_DB='postgres://owner:...@target-host:5432/app'",
      ExitCode.missingConfig,
    );
  }
  return { source, target, sourceFromTarget: process.env.PROBATIO_SOURCE_DB_FROM_TARGET };
}
