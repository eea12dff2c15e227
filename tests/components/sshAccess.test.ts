/**
 * A delivery's SSH connection that ends in the middle of its handshake, as a forwarded channel through the jump host
 * did in a CI run (the target's sshd sent its version line, then the channel ended): no error event comes from the
 * SSH library, only an end. Before this was handled the connection's promise never settled and the delivery process
 * exited with nothing printed (the boot test: "Unexpected end of JSON input"; the engine's provider would have hung).
 */
import { execFileSync } from "child_process";
import { mkdtempSync, rmSync } from "fs";
import { createServer, Server } from "net";
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
