/** Reading metrics from the stack's Prometheus (its HTTP API): range and instant queries, with errors an operator can act on. */
import { ExitCode, ProbatioError } from "../../lib/errors";

interface ApiResponse {
  status: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] };
}

async function get(base: string, path: string, params: Record<string, string>): Promise<NonNullable<ApiResponse["data"]>> {
  let url: URL;
  try {
    url = new URL(path, base.endsWith("/") ? base : base + "/");
  } catch {
    throw new ProbatioError(
      `--prometheus '${base}' is not a URL`,
      "e.g. http://127.0.0.1:9090 (an SSH tunnel to the monitoring machine)",
      ExitCode.usage,
    );
  }
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  let body: ApiResponse;
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    body = (await r.json()) as ApiResponse;
  } catch (err) {
    throw new ProbatioError(
      `cannot query Prometheus at ${base}: ${(err as Error).message}`,
      "check the address: the monitoring machine's Prometheus listens on 9090 of the private network (reach it through an SSH tunnel)",
      ExitCode.failure,
    );
  }
  if (body.status !== "success" || !body.data) {
    throw new ProbatioError(`Prometheus refused the query ${params.query}: ${body.error ?? body.status}`, undefined, ExitCode.failure);
  }
  return body.data;
}

/** One series over [start, end] every `stepS` seconds (the first series of the result; none: an empty list). */
export async function queryRange(
  base: string,
  query: string,
  start: number,
  end: number,
  stepS: number,
): Promise<{ at: number; value: number }[]> {
  const data = await get(base, "api/v1/query_range", { query, start: String(start), end: String(end), step: String(stepS) });
  const series = data.result[0]?.values ?? [];
  return series.map(([at, v]) => ({ at, value: Number(v) })).filter((p) => Number.isFinite(p.value));
}

/** The value of an instant query at `at` (epoch seconds); undefined when it has no result. */
export async function queryAt(base: string, query: string, at: number): Promise<number | undefined> {
  const data = await get(base, "api/v1/query", { query, time: String(at) });
  const v = data.result[0]?.value;
  return v ? Number(v[1]) : undefined;
}
