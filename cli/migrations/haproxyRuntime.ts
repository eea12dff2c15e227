/** A client of HAProxy's runtime API (admin level, over TCP): server states, weights and shares. */
import { Socket } from "net";
import { ExitCode, ProbatioError } from "../../lib/errors";
import { HAPROXY_BACKENDS, SERVER_WEIGHT } from "../../components/config/haproxy";

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export function parseEndpoint(text: string, what: string): Endpoint {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new ProbatioError(`${what} '${text}' is not HOST:PORT`, undefined, ExitCode.usage);
  }
  return { host: m[1], port: Number(m[2]) };
}

/** One runtime API command; HAProxy answers and closes the connection. */
export function runtimeCommand(ep: Endpoint, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let out = "";
    const fail = (err: Error) => {
      socket.destroy();
      reject(
        new ProbatioError(
          `HAProxy's runtime API at ${ep.host}:${ep.port} did not answer '${command.split(" ").slice(0, 3).join(" ")}': ${err.message}`,
          `open the tunnel to it (e.g. ssh -N -L ${ep.port}:127.0.0.1:9999 <lb node>) and run again`,
          ExitCode.failure,
        ),
      );
    };
    socket.setTimeout(timeoutMs, () => fail(new Error("timed out")));
    socket.on("error", fail);
    socket.on("data", (d) => (out += d.toString()));
    socket.on("end", () => resolve(out.trim()));
    socket.connect(ep.port, ep.host, () => socket.end(`${command}\n`));
  });
}

/** A runtime API command whose answer must not be an error. */
export async function command(ep: Endpoint, cmd: string): Promise<string> {
  const out = await runtimeCommand(ep, cmd);
  if (/no such|unknown|require|invalid|not found|cannot|failed|unexpected|permission denied/i.test(out)) {
    throw new ProbatioError(
      `HAProxy at ${ep.host}:${ep.port} refused '${cmd}': ${out}`,
      "the source's HAProxy configuration is not the one probatio renders (no migration slot); run `probatio up` for the source phase first",
      ExitCode.failure,
    );
  }
  return out;
}

export interface ServerStat {
  readonly backend: string;
  readonly server: string;
  readonly status: string;
  readonly weight: number;
  /** Requests sent to the server, and those that failed there (5xx, connection or response errors, redispatched). */
  readonly requests: number;
  readonly errors: number;
}

/** `show stat` for the servers of our backends. */
export async function serverStats(ep: Endpoint): Promise<ServerStat[]> {
  const csv = await runtimeCommand(ep, "show stat");
  const [header, ...rows] = csv.split("\n").filter((l) => l.trim() !== "");
  const cols = header.replace(/^# /, "").split(",");
  const at = (name: string) => cols.indexOf(name);
  const num = (r: string[], name: string) => Number(r[at(name)] || 0);
  return rows
    .map((l) => l.split(","))
    .filter((r) => r[at("svname")] !== "FRONTEND" && r[at("svname")] !== "BACKEND")
    .map((r) => ({
      backend: r[at("pxname")],
      server: r[at("svname")],
      status: r[at("status")],
      weight: num(r, "weight"),
      requests: num(r, "stot"),
      // HAProxy retries a failed request on another server (retry-on, redispatch): the client gets its answer, the
      // failure shows only in the server's redispatch counter, not in its 5xx count. Both count against the target.
      errors: num(r, "hrsp_5xx") + num(r, "wredis") + num(r, "econ") + num(r, "eresp"),
    }));
}

/**
 * Weights that give the slot `percent` of the requests against `sources` servers of equal weight: the slot's
 * weight t and every source's weight s, both within HAProxy's 0-256, with t / (t + n*s) as close as can be.
 */
export function weightsFor(percent: number, sources: number): { source: number; slot: number } {
  if (percent <= 0) return { source: SERVER_WEIGHT, slot: 0 };
  if (percent >= 100 || sources === 0) return { source: 0, slot: SERVER_WEIGHT };
  let best = { source: SERVER_WEIGHT, slot: 1, error: Infinity };
  for (let slot = 1; slot <= 256; slot++) {
    for (let source = 1; source <= 256; source++) {
      const error = Math.abs(slot / (slot + sources * source) - percent / 100);
      if (error < best.error - 1e-12) best = { source, slot, error };
    }
  }
  return { source: best.source, slot: best.slot };
}

/** Sends `percent` of a backend's requests to the slot on one HAProxy. */
export async function setShare(ep: Endpoint, backend: string, percent: number): Promise<void> {
  const servers = (await serverStats(ep)).filter((s) => s.backend === backend);
  const sources = servers.filter((s) => s.server !== HAPROXY_BACKENDS.slot);
  if (!servers.some((s) => s.server === HAPROXY_BACKENDS.slot)) {
    throw new ProbatioError(
      `HAProxy at ${ep.host}:${ep.port} has no '${HAPROXY_BACKENDS.slot}' server in backend '${backend}'`,
      "the source's HAProxy configuration predates the migration slot; run `probatio up` for the source phase first",
      ExitCode.failure,
    );
  }
  const w = weightsFor(percent, sources.length);
  // The slot first when it grows, the sources first when they grow: the total never falls to zero.
  const slot = () => command(ep, `set weight ${backend}/${HAPROXY_BACKENDS.slot} ${w.slot}`);
  const rest = () => Promise.all(sources.map((s) => command(ep, `set weight ${backend}/${s.server} ${w.source}`)));
  if (w.slot > 0) {
    await slot();
    await rest();
  } else {
    await rest();
    await slot();
  }
}
