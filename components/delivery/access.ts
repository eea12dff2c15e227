/**
 * How a delivery reaches a machine: SSH (directly, or through a jump host for machines with no public interface),
 * with each host key pinned on first contact and checked on every later one. The credentials are read at run time
 * (an ssh-agent, or PROBATIO_SSH_KEY naming a private key file), never stored in the stack's state.
 */
import { createHash } from "crypto";
import { readFileSync } from "fs";
import type { Client, ClientChannel, ConnectConfig } from "ssh2";

export interface SshEndpoint {
  readonly host: string;
  /** @default 22 */
  readonly port?: number;
  /** @default "debian" (the default user of OVH's Debian images; root through sudo) */
  readonly user?: string;
}

export interface SshTarget extends SshEndpoint {
  /** A machine with no public interface is reached through this one (SSH's ProxyJump). */
  readonly jump?: SshEndpoint;
}

/** Host keys as OpenSSH prints them ("SHA256:..."); absent on first contact. */
export interface HostKeyPins {
  readonly target?: string;
  readonly jump?: string;
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** An open connection to a machine. */
export interface MachineSession {
  /** The host keys seen (to pin). */
  readonly hostKeys: Required<HostKeyPins>;
  /** Runs a script as root (through `sudo` unless the user is root), the script on standard input. */
  run(script: string): Promise<ExecResult>;
  close(): void;
}

export class HostKeyMismatchError extends Error {}
class CredentialsError extends Error {}

export const fingerprint = (key: Buffer): string => "SHA256:" + createHash("sha256").update(key).digest("base64").replace(/=+$/, "");

/** The operator's SSH credentials, from the environment of the process that runs the delivery. */
function credentials(): Pick<ConnectConfig, "agent" | "privateKey"> {
  const keyFile = process.env.PROBATIO_SSH_KEY;
  if (keyFile) return { privateKey: readFileSync(keyFile) };
  if (process.env.SSH_AUTH_SOCK) return { agent: process.env.SSH_AUTH_SOCK };
  throw new CredentialsError(
    "no SSH credentials: set PROBATIO_SSH_KEY to the private key of the stack's sshPublicKey, or run an ssh-agent holding it",
  );
}

/** How long a delivery waits for a machine's SSH: PROBATIO_SSH_WAIT_SECONDS, default 10 minutes (a VPS order's boot). */
const connectTimeoutMs = () => Number(process.env.PROBATIO_SSH_WAIT_SECONDS ?? 600) * 1000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function connectOnce(endpoint: SshEndpoint, pin: string | undefined, seen: (fp: string) => void, sock?: ClientChannel): Promise<Client> {
  const { Client } = require("ssh2") as typeof import("ssh2");
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once("close", () => closed.add(client));
    let mismatch: HostKeyMismatchError | undefined;
    // The protocol's last steps, named in a lost connection's message: where the handshake stopped says why.
    const trail: string[] = [];
    // A failed attempt's connection is closed, not left counting against the server's unauthenticated connections.
    let failed = false;
    const fail = (err: Error) => {
      reject(mismatch ?? err);
      if (!failed) client.end();
      failed = true;
    };
    const lostBeforeHandshake = () =>
      fail(new Error(`Connection lost before the SSH handshake completed (last steps: ${trail.slice(-4).join(" / ")})`));
    client
      .on("ready", () => resolve(client))
      .on("error", fail)
      // A connection that ends during the handshake without an error (a forwarded channel the jump host ends after the
      // target's version line) settled nothing, and a delivery process exited with no result: it is retried.
      .on("end", lostBeforeHandshake)
      .on("close", lostBeforeHandshake)
      .connect({
        host: endpoint.host,
        port: endpoint.port ?? 22,
        username: endpoint.user ?? "debian",
        sock,
        readyTimeout: 20_000,
        debug: (line: string) => void (trail.push(line.slice(0, 160)) > 20 && trail.shift()),
        ...credentials(),
        hostVerifier: (key: Buffer) => {
          const fp = fingerprint(key);
          seen(fp);
          if (pin && pin !== fp) {
            mismatch = new HostKeyMismatchError(
              `the SSH host key of ${endpoint.host} changed: pinned ${pin}, offered ${fp}. If the machine was rebuilt, ` +
                `deliver its configuration afresh (\`probatio up --replace-config <machine>\`, which pins the new key); otherwise ` +
                "someone may be between you and the machine: do not go on",
            );
            return false;
          }
          return true;
        },
      });
  });
}

/** Connects, retrying while the machine boots (up to `timeoutMs`); a host key mismatch is never retried. */
async function connect(
  endpoint: SshEndpoint,
  pin: string | undefined,
  seen: (fp: string) => void,
  timeoutMs: number,
  via?: Client,
): Promise<Client> {
  const t0 = Date.now();
  for (;;) {
    try {
      const sock = via ? await forward(via, endpoint) : undefined;
      return await connectOnce(endpoint, pin, seen, sock);
    } catch (err) {
      if (err instanceof HostKeyMismatchError || err instanceof CredentialsError || err instanceof JumpLostError) throw err;
      // A machine still booting refuses or drops connections; anything else (authentication) will not get better.
      const booting = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|handshake|Connection lost/i.test(
        `${(err as { code?: string }).code ?? ""} ${(err as Error).message}`,
      );
      if (!booting || Date.now() - t0 > timeoutMs) {
        throw new Error(
          `cannot open an SSH session on ${endpoint.user ?? "debian"}@${endpoint.host}:${endpoint.port ?? 22}: ${(err as Error).message}`,
        );
      }
      await sleep(3000);
    }
  }
}

/** A jump host's connection that closed under a delivery: the jump is connected afresh, not waited on. */
class JumpLostError extends Error {}

/** A channel through the jump host to the target's SSH port (SSH's ProxyJump). */
function forward(via: Client, to: SshEndpoint): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    // A jump that closed (between two attempts, or under this one) fails the attempt as a lost jump, which openSsh
    // connects afresh; ssh2's own answer ("Not connected") ended the whole delivery.
    const lost = () => reject(new JumpLostError(`the jump host's connection closed before it reached ${to.host}`));
    if (closed.has(via)) return lost();
    via.once("close", lost);
    try {
      via.forwardOut("127.0.0.1", 0, to.host, to.port ?? 22, (err, stream) => {
        via.off("close", lost);
        if (err) reject(err);
        else resolve(stream);
      });
    } catch {
      // Thrown by ssh2 on a connection that ended but has not said so yet ("Not connected").
      lost();
    }
  });
}

/** Connections that have closed (ssh2 exposes no such state). */
const closed = new WeakSet<Client>();

/** Opens a session on the target (through its jump host), checking the pinned host keys. */
export async function openSsh(target: SshTarget, pins: HostKeyPins, timeoutMs = connectTimeoutMs()): Promise<MachineSession> {
  const keys = { target: "", jump: "" };
  const deadline = Date.now() + timeoutMs;
  let jump: Client | undefined;
  let client: Client;
  for (;;) {
    const left = Math.max(0, deadline - Date.now());
    jump = target.jump ? await connect(target.jump, pins.jump, (fp) => (keys.jump = fp), left) : undefined;
    try {
      client = await connect(target, pins.target, (fp) => (keys.target = fp), left, jump);
      break;
    } catch (err) {
      jump?.end();
      // The jump host's connection closed (the jump rebooted, or dropped it): connect to it again while time is left.
      if (!(err instanceof JumpLostError)) throw err;
      if (Date.now() > deadline) {
        throw new Error(`cannot open an SSH session on ${target.user ?? "debian"}@${target.host}:${target.port ?? 22}: ${err.message}`);
      }
      await sleep(3000);
    }
  }
  const asRoot = (target.user ?? "debian") === "root" ? "bash -s" : "sudo -n bash -s";
  return {
    hostKeys: keys,
    run: (script) =>
      new Promise((resolve, reject) =>
        client.exec(asRoot, (err, stream) => {
          if (err) return reject(err);
          let stdout = "";
          let stderr = "";
          // The connection lost under the script: an error, not a result (the channel's own close then settles nothing).
          const lost = () => reject(new Error(`the SSH connection to ${target.host} was lost while the script ran`));
          client.once("end", lost).once("close", lost);
          stream.on("data", (d: Buffer) => (stdout += d.toString()));
          stream.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
          stream.on("close", (code: number | null) => {
            client.off("end", lost).off("close", lost);
            resolve({ code: code ?? 255, stdout, stderr });
          });
          stream.end(script);
        }),
      ),
    close: () => {
      client.end();
      jump?.end();
    },
  };
}
