import { existsSync, realpathSync } from "fs";
import { homedir } from "os";
import { delimiter, dirname, join } from "path";
import { ExitCode, ProbatioError } from "../lib/errors";

export const PULUMI_VERSION = "v3.259.0";

export function cacheDir(): string {
  return process.env.PROBATIO_CACHE ?? join(homedir(), ".cache", "probatio");
}

/** Directory whose bin/ holds the Pulumi CLI: $PROBATIO_PULUMI_ROOT, the probatio cache, or `pulumi` on PATH. */
export function findPulumiRoot(): string {
  const candidates: string[] = [];
  if (process.env.PROBATIO_PULUMI_ROOT) candidates.push(process.env.PROBATIO_PULUMI_ROOT);
  candidates.push(join(cacheDir(), `pulumi-${PULUMI_VERSION}`));
  for (const root of candidates) {
    if (existsSync(join(root, "bin", "pulumi"))) return root;
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const p = join(dir, "pulumi");
    if (dir && existsSync(p)) return dirname(dirname(realpathSync(p)));
  }
  throw new ProbatioError(
    "the Pulumi CLI was not found (not on PATH, not in " + join(cacheDir(), `pulumi-${PULUMI_VERSION}`, "bin") + ")",
    "with internet: install Pulumi (https://www.pulumi.com/docs/install/). Without: run scripts/build-pulumi.sh, which builds " +
      `Pulumi ${PULUMI_VERSION} from the Go module proxy into that cache (about 7 minutes, once).`,
    ExitCode.noEngine,
  );
}
