import { ExitCode, ProbatioError } from "../../lib/errors";
import { derivedSecret, SUPERUSER_PURPOSE } from "../../lib/secrets";
import type { Stack } from "../automation/workspace";

export interface DatabaseUrls {
  readonly source: string;
  readonly target: string;
  readonly sourceFromTarget?: string;
}

/** Database URLs come from the environment, so that passwords never show in `ps`. */
export function databaseUrls(): DatabaseUrls {
  const source = process.env.PROBATIO_SOURCE_DB;
  const target = process.env.PROBATIO_TARGET_DB;
  if (!source || !target) {
    throw new ProbatioError(
      "PROBATIO_SOURCE_DB and PROBATIO_TARGET_DB must be set (postgres:// URLs of the source and target databases)",
      "ssh -N -L 15432:127.0.0.1:5432 debian@<source primary> & ssh -N -J debian@<target jump host> -L 25432:127.0.0.1:5432 debian@<target primary> & " +
        "export PROBATIO_SOURCE_DB=postgres://postgres@127.0.0.1:15432/app PROBATIO_TARGET_DB=postgres://postgres@127.0.0.1:25432/app " +
        "PROBATIO_SOURCE_DB_FROM_TARGET=postgres://<source primary's public address>:5432/app?sslmode=require",
      ExitCode.missingConfig,
    );
  }
  return { source, target, sourceFromTarget: process.env.PROBATIO_SOURCE_DB_FROM_TARGET };
}

/**
 * The URLs with the stack's superuser password in each `postgres` URL that has none (both phases of a stack share
 * it): an operator names where each primary is (an SSH tunnel to its loopback) and never handles the password.
 */
export async function withStackSuperuser(urls: DatabaseUrls, stack: Stack): Promise<DatabaseUrls> {
  const db = (await stack.getAllConfig())["probatio:dbPassword"]?.value;
  if (!db) return urls;
  const password = derivedSecret(db, SUPERUSER_PURPOSE);
  const fill = (url: string, name: string) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new ProbatioError(`${name} is not a URL`, "e.g. postgres://postgres@127.0.0.1:15432/app", ExitCode.usage);
    }
    if (u.username === "postgres" && !u.password) u.password = password;
    return u.toString();
  };
  return { ...urls, source: fill(urls.source, "PROBATIO_SOURCE_DB"), target: fill(urls.target, "PROBATIO_TARGET_DB") };
}

/** The URLs of a migration's data step on `stack`. */
export async function stackDatabaseUrls(stack: Stack): Promise<DatabaseUrls> {
  return withStackSuperuser(databaseUrls(), stack);
}
