/**
 * A delivery's SSH connection that ends in the middle of its handshake, as a forwarded channel through the jump host
 * did in a CI run (the target's sshd sent its version line, then the channel ended): no error event comes from the
 * SSH library, only an end. Before this was handled the connection's promise never settled and the delivery process
 * exited with nothing printed (the boot test: "Unexpected end of JSON input"; the engine's provider would have hung).
 * And a jump host's connection that closed between two attempts: the retry asked a closed connection for a channel,
 * and the delivery failed ("Not connected") with time left to wait; the jump is now connected afresh.
 */
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { connect as tcpConnect, createServer, Server } from "net";
import { readFileSync } from "fs";
import { Server as SshServer } from "ssh2";
import { tmpdir } from "os";
import { join } from "path";
import { openSsh } from "../../components/delivery/access";

let server: Server;
let port: number;
let dir: string;
let connections = 0;
const operatorKeyBefore = process.env.PROBATIO_SSH_KEY;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "probatio-ssh-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "operator")]);
  process.env.PROBATIO_SSH_KEY = join(dir, "operator");
  // An sshd that answers with its version line, then ends the connection.
  server = createServer((socket) => {
    connections++;
    socket.on("error", () => undefined);
    socket.write("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    setTimeout(() => socket.end(), 100);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(() => {
  server.close();
  if (operatorKeyBefore === undefined) delete process.env.PROBATIO_SSH_KEY;
  else process.env.PROBATIO_SSH_KEY = operatorKeyBefore;
  rmSync(dir, { recursive: true, force: true });
});

test("a connection that ends during the handshake is retried like a machine still booting, then refused with a clear error", async () => {
  await expect(openSsh({ host: "127.0.0.1", port }, {}, 1000)).rejects.toThrow(
    `cannot open an SSH session on debian@127.0.0.1:${port}: Connection lost before the SSH handshake`,
  );
  // Once, then again after the 3 s pause a booting machine gets.
  expect(connections).toBe(2);
}, 30_000);

/** An SSH server (ssh2's) that lets anyone in; `onReady` gets each authenticated connection. */
function sshServer(
  onReady: (client: import("ssh2").Connection, n: number) => void,
): Promise<{ server: SshServer; port: number; connections: () => number }> {
  let n = 0;
  const server = new SshServer({ hostKeys: [readFileSync(join(dir, "host"))] }, (client) => {
    const index = ++n;
    client.on("error", () => undefined);
    client.on("authentication", (ctx) => ctx.accept()).on("ready", () => onReady(client, index));
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port, connections: () => n })),
  );
}

test("a jump host whose connection closed under a retry is connected again: the delivery goes through (it failed with 'Not connected')", async () => {
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host")]);
  // The target: runs any command by answering "ran".
  const target = await sshServer((client) =>
    client.on("session", (accept) =>
      accept().on("exec", (acceptExec) => {
        const stream = acceptExec();
        stream.on("data", () => undefined);
        stream.write("ran\n");
        stream.exit(0);
        stream.end();
      }),
    ),
  );
  // The jump: its first connection forwards a version line, ends the channel, then closes itself (as a jump host
  // dropping its clients); later connections forward to the target.
  const jump = await sshServer((client, n) =>
    client.on("tcpip", (accept) => {
      const channel = accept();
      if (n === 1) {
        channel.write("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
        setTimeout(() => {
          channel.end();
          client.end();
        }, 100);
        return;
      }
      const upstream = tcpConnect(target.port, "127.0.0.1");
      upstream.on("error", () => channel.end());
      channel.pipe(upstream).pipe(channel);
    }),
  );
  try {
    const session = await openSsh({ host: "127.0.0.1", port: target.port, jump: { host: "127.0.0.1", port: jump.port } }, {}, 20_000);
    const result = await session.run("true");
    session.close();
    expect(result).toEqual({ code: 0, stdout: "ran\n", stderr: "" });
    expect(session.hostKeys.jump).toMatch(/^SHA256:/);
    // The first jump connection closed; the second carried the delivery.
    expect(jump.connections()).toBe(2);
  } finally {
    jump.server.close();
    target.server.close();
  }
}, 30_000);
