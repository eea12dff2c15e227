/**
 * The origin's certificate by ACME, for real: HAProxy with the configuration probatio renders for a load balancer node
 * (its challenge route), certbot from Debian run by the command probatio renders (what the timer's service runs), its
 * deploy hook installing the bundle and reloading HAProxy, against Pebble (Let's Encrypt's test CA, from the Go module
 * proxy) whose validation resolves the name through a real authoritative DNS server (Knot). Pebble's certificates last
 * 20 days here, inside certbot's 30-day renewal window: each run of the rendered command renews, as the timer's would
 * near expiry. Only `systemctl` is a STAND-IN (no systemd here): `reload haproxy` signals HAProxy's master, as
 * systemd's reload of Debian's unit does.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { createServer, IncomingMessage, Server, ServerResponse } from "http";
import { request } from "https";
import { connect, PeerCertificate } from "tls";
import { join } from "path";
import { ACME_PATHS, renderAcmeCommand, renderAcmeDeployHook, renderAcmeUnits } from "../../components/config/acme";
import { renderHaproxyCfg } from "../../components/config/haproxy";
import { renderAlertRules } from "../../components/config/monitoring";
import { AuthoritativeDns, startAuthoritativeDns } from "./authoritativeDns";
import { daemonDir, freePort, stopProcess, waitUntil } from "./daemons";

jest.setTimeout(180_000);

const DOMAIN = "api.example.test";
const repo = join(__dirname, "..", "..", "..");

interface Served {
  readonly authorized: boolean;
  readonly error?: string;
  readonly cert: PeerCertificate;
}

/** The certificate HAProxy serves for the name, checked against `ca`. */
function served(port: number, ca: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, servername: DOMAIN, ca, rejectUnauthorized: false }, () => {
      resolve({ authorized: s.authorized, error: s.authorizationError?.toString(), cert: s.getPeerCertificate() });
      s.end();
    });
    s.once("error", reject);
  });
}

function httpsGet(port: number, path: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, servername: DOMAIN, ca, headers: { host: DOMAIN } }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("error", reject);
    req.end();
  });
}

describe("the origin's certificate by ACME through HAProxy's rendered challenge route (Pebble, certbot, Knot)", () => {
  const dir = daemonDir("acme");
  let dns: AuthoritativeDns;
  let pebble: ChildProcess;
  let haproxy: ChildProcess;
  let app: Server;
  let root: string;
  let run: () => string;
  const ports: Record<string, number> = {};
  const pem = join(dir, "site.pem");
  const pebbleDir = execFileSync("bash", [join(repo, "scripts", "build-pebble.sh")], { encoding: "utf8" })
    .trim()
    .split("\n")
    .pop()!;
  const minica = join(pebbleDir, "test", "certs", "pebble.minica.pem");

  beforeAll(async () => {
    for (const k of ["http", "https", "challenge", "acme", "management", "app", "stats"]) ports[k] = await freePort();
    // The application: /health for HAProxy's checks, /slow answers after 4 s (a request in flight during a reload).
    app = createServer((req: IncomingMessage, res: ServerResponse) => {
      const answer = () => res.end(`app ${req.url}`);
      if (req.url === "/slow") setTimeout(answer, 4000);
      else answer();
    });
    await new Promise<void>((r) => app.listen(ports.app, "127.0.0.1", r));

    dns = await startAuthoritativeDns("example.test", () => [`${DOMAIN}. 60 IN A 127.0.0.1`]);
    writeFileSync(
      join(dir, "pebble.json"),
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${ports.acme}`,
          managementListenAddress: `127.0.0.1:${ports.management}`,
          certificate: join(pebbleDir, "test", "certs", "localhost", "cert.pem"),
          privateKey: join(pebbleDir, "test", "certs", "localhost", "key.pem"),
          // HTTP-01 validation comes to HAProxy's port 80 (here its test port).
          httpPort: ports.http,
          tlsPort: await freePort(),
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
          profiles: { default: { description: "20 days: inside certbot's renewal window", validityPeriod: 20 * 86400 } },
        },
      }),
    );
    pebble = spawn(join(pebbleDir, "bin", "pebble"), ["-config", join(dir, "pebble.json"), "-dnsserver", dns.address], {
      env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    pebble.stdout!.on("data", (d) => (log += d));
    pebble.stderr!.on("data", (d) => (log += d));
    await waitUntil(() => log.includes("Listening on"), 20_000, `Pebble to listen (${log})`);

    // HAProxy as probatio renders it for a node (the first-boot certificate until ACME's), in master-worker mode.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=probatio",
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
      ],
      { stdio: "ignore" },
    );
    writeFileSync(pem, readFileSync(join(dir, "c.pem"), "utf8") + readFileSync(join(dir, "k.pem"), "utf8"));
    const cfg = renderHaproxyCfg({
      http: { address: "127.0.0.1", port: ports.http },
      https: { address: "127.0.0.1", port: ports.https, certPath: pem },
      backends: [{ name: "backend1", address: "127.0.0.1", port: ports.app }],
      healthPath: "/health",
      checkIntervalMs: 500,
      fall: 2,
      rise: 1,
      stats: { address: "127.0.0.1", port: ports.stats },
      maxconn: 100,
      acmeChallenge: { port: ports.challenge },
    });
    writeFileSync(join(dir, "haproxy.cfg"), cfg);
    haproxy = spawn("haproxy", ["-W", "-db", "-f", join(dir, "haproxy.cfg"), "-p", join(dir, "haproxy.pid")], { stdio: "ignore" });
    await waitUntil(
      () =>
        served(ports.https, "").then(
          () => true,
          () => false,
        ),
      10_000,
      "HAProxy on its TLS port",
    );

    // The rendered command and deploy hook, with this test's certificate path and ACME directory.
    const s = {
      domain: DOMAIN,
      email: "oncall@example.test",
      directory: `https://localhost:${ports.acme}/dir`,
      certPath: pem,
      challengePort: ports.challenge,
      metricsFile: join(dir, "textfile", "probatio_certificate.prom"),
    };
    writeFileSync(join(dir, "probatio-certificate"), renderAcmeCommand(s));
    writeFileSync(join(dir, "probatio-install-certificate"), renderAcmeDeployHook(s));
    // STAND-IN for systemd's `systemctl reload haproxy`: Debian's unit reloads by signalling HAProxy's master (USR2).
    mkdirSync(join(dir, "bin"));
    writeFileSync(
      join(dir, "bin", "systemctl"),
      `#!/bin/sh\n[ "$1 $2" = "reload haproxy" ] || exit 1\nkill -USR2 $(cat ${join(dir, "haproxy.pid")})\n`,
    );
    for (const f of ["probatio-certificate", "probatio-install-certificate", "bin/systemctl"]) chmodSync(join(dir, f), 0o755);
    run = () =>
      execFileSync(
        "sh",
        [
          join(dir, "probatio-certificate"),
          // certbot's files in the test's directory, and the rendered hook where the test wrote it (last value wins).
          ...["--config-dir", join(dir, "le"), "--work-dir", join(dir, "work"), "--logs-dir", join(dir, "logs")],
          ...["--deploy-hook", join(dir, "probatio-install-certificate")],
        ],
        {
          encoding: "utf8",
          env: {
            ...process.env,
            PATH: `${join(dir, "bin")}:${process.env.PATH}`,
            REQUESTS_CA_BUNDLE: minica,
            // The command's pre-flight asks http://<name>/ (port 80); the name leads to HAProxy's test port here: its
            // curl goes there as through a proxy (HAProxy serves the absolute URI; only the pre-flight uses plain HTTP).
            http_proxy: `http://127.0.0.1:${ports.http}`,
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
    root = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: ports.management, path: "/roots/0", ca: readFileSync(minica), servername: "localhost" },
        (res) => {
          let body = "";
          res.on("data", (d) => (body += d));
          res.on("end", () => resolve(body));
        },
      );
      req.once("error", reject);
      req.end();
    });
  });

  afterAll(async () => {
    await stopProcess(haproxy);
    await stopProcess(pebble);
    await dns?.stop();
    await new Promise((r) => app?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test("the rendered units: the timer runs the rendered command twice a day at the node's minute, and 2 minutes after boot with no random delay", () => {
    const node = (challengeAddress: string) => ({ domain: DOMAIN, email: "a@b.c", certPath: pem, challengePort: 8888, challengeAddress });
    const units = renderAcmeUnits(node("10.1.0.11"));
    expect(units.service).toContain(`ExecStart=${ACME_PATHS.command}`);
    expect(units.service).toContain("Restart=on-failure\nRestartSec=15min");
    const minute = (a: string) => Number(/OnCalendar=\*-\*-\* 00,12:(\d\d):00/.exec(renderAcmeUnits(node(a)).timer)![1]);
    // The pair's nodes of ProbatioVault 3 come at different minutes.
    expect(minute("10.1.0.11")).not.toBe(minute("10.1.0.12"));
    expect(units.timer).toContain("OnBootSec=2min");
    // systemd applies a RandomizedDelaySec to every trigger of the timer, OnBootSec's too (seen: a first run 42 min late).
    expect(units.timer).not.toContain("RandomizedDelaySec");
    expect(renderAcmeCommand({ domain: DOMAIN, email: "a@b.c", certPath: pem, challengePort: 8888 })).toContain(
      "--server https://acme-v02.api.letsencrypt.org/directory",
    );
  });

  test("first run: HTTP-01 through HAProxy's port 80, and HAProxy serves a certificate for the name that chains to the CA's root", async () => {
    const before = await served(ports.https, root);
    expect(before.authorized).toBe(false);
    const t0 = Date.now();
    run();
    process.stdout.write(`ACME: certificate obtained through HAProxy from Pebble in ${Date.now() - t0} ms\n`);
    await waitUntil(() => served(ports.https, root).then((s) => s.authorized), 10_000, "HAProxy to serve the new certificate");
    const after = await served(ports.https, root);
    expect(after.cert.subjectaltname).toBe(`DNS:${DOMAIN}`);
    expect((await httpsGet(ports.https, "/hello", root)).body).toBe("app /hello");
    // The bundle HAProxy reads is private.
    expect(execFileSync("stat", ["-c", "%a", pem], { encoding: "utf8" }).trim()).toBe("600");
    // The node exporter's textfile: when the served certificate expires (the alert's input).
    const metric = readFileSync(join(dir, "textfile", "probatio_certificate.prom"), "utf8");
    const notAfter = Math.floor(Date.parse(after.cert.valid_to) / 1000);
    expect(metric).toContain(`probatio_certificate_not_after_seconds{domain="${DOMAIN}"} ${notAfter}\n`);
  });

  test("the expiry alert: fires after an hour when the certificate has under 14 days left, not with 20 (promtool)", async () => {
    const rules = renderAlertRules(
      {
        cpuPercent: 80,
        memoryPercent: 80,
        diskPercent: 80,
        latencySeconds: 1,
        latencyQuantile: 0.95,
        availabilityPercent: 99.9,
        forMinutes: 15,
        certificateDays: 14,
      },
      "test",
    );
    writeFileSync(join(dir, "rules.yml"), rules);
    const at = (days: number) =>
      `probatio_certificate_not_after_seconds{instance="lb-1:9100",domain="${DOMAIN}"}`.concat(` '${days * 86400}x90'`);
    writeFileSync(
      join(dir, "rules.test.yml"),
      [
        "rule_files: [rules.yml]",
        "evaluation_interval: 1m",
        "tests:",
        "  - interval: 1m",
        "    input_series:",
        ...[13, 20].map(
          (d, i) =>
            `      - series: '${at(d)
              .split(" '")[0]
              .replace("lb-1", `lb-${i + 1}`)}'\n        values: '${d * 86400}x90'`,
        ),
        "    alert_rule_test:",
        "      - eval_time: 30m",
        "        alertname: CertificateExpiring",
        "        exp_alerts: []",
        "      - eval_time: 61m",
        "        alertname: CertificateExpiring",
        "        exp_alerts:",
        "          - exp_labels: { severity: critical, instance: 'lb-1:9100', domain: " + DOMAIN + " }",
        "            exp_annotations:",
        `              summary: "The certificate of ${DOMAIN} on lb-1:9100 expires in less than 14 days: its renewal (probatio-certificate.timer) is failing"`,
        "",
      ].join("\n"),
    );
    const out = execFileSync("promtool", ["test", "rules", "rules.test.yml"], { cwd: dir, encoding: "utf8" });
    expect(out).toContain("SUCCESS");
  });

  test("the next run renews (the certificate is inside the renewal window) and the reload drops no request in flight", async () => {
    const first = await served(ports.https, root);
    const inFlight = httpsGet(ports.https, "/slow", root);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    run();
    process.stdout.write(`ACME: renewed and HAProxy reloaded in ${Date.now() - t0} ms\n`);
    expect(await inFlight).toEqual({ status: 200, body: "app /slow" });
    await waitUntil(
      () => served(ports.https, root).then((s) => s.authorized && s.cert.serialNumber !== first.cert.serialNumber),
      10_000,
      "HAProxy to serve the renewed certificate",
    );
  });
});
