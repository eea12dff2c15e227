/**
 * The boot harness: a phase's machines as the cloud runs them. Each machine is a copy (an overlay) of the Debian 12
 * image that scripts/boot-image.sh builds, booted by systemd-nspawn with the NoCloud datasource seeded with its user
 * data byte for byte as probatio gives it to the cloud, and the network configuration the cloud's metadata would give
 * (its address on its network). The machines of a phase share one private network: a bridge in a network namespace
 * of our own, where dnsmasq answers forward and reverse DNS for them. Packages come from Debian's mirror through
 * apt-cacher-ng on this host's loopback, reached from the namespace through a Unix socket (socat): no address outside
 * the namespace is used. Everything started here is stopped and removed by `destroy()`.
 */
import { ChildProcess, execFile, execFileSync, spawn } from "child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { join } from "path";
import { promisify } from "util";
import { ACME_CA, MAIL_RELAY, S3_NAMES, Standins } from "./standins";

const execP = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The port of the vendors' STAND-IN server on the gateway. */
export const STANDIN_PORT = 8080;

/** The S3 stand-in's credentials: the ones `probatio render` puts in the machines' pgBackRest configuration. */
export const S3_STANDIN_CREDENTIALS = { key: "plan-access-key", secret: "plan-secret-key" } as const;

/** Where the machines' copies and the daemons' files live while a test runs (removed after). */
export const BOOT_WORK_PREFIX = "/var/tmp/probatio-boot-";

/**
 * Each machine's control group, one per hierarchy systemd uses (cgroup v1's name=systemd and the hybrid's unified
 * one, or v2's only one). systemd-nspawn puts a machine under the group it is started in: started in this process's
 * (the root here, no systemd on the host), every machine's systemd shared one tree, `payload/system.slice/ssh.service`
 * the same directory for all of them, each seeing the others' processes in its units. On a cloud each machine is alone.
 */
export function machineCgroups(machineNetns: string): string[] {
  return cgroupRoots().map((root) => join(root, machineNetns));
}

/** Where every machine's control groups are made, one directory per hierarchy. */
function cgroupRoots(): string[] {
  const v1 = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"].filter((h) => existsSync(join(h, "cgroup.procs")));
  const hierarchies = v1.length > 0 ? v1 : existsSync("/sys/fs/cgroup/cgroup.procs") ? ["/sys/fs/cgroup"] : [];
  return hierarchies.map((h) => join(h, "probatio-boot"));
}

/** Removes a stopped machine's control groups, innermost first (a group with a process left stays: harmless). */
function removeCgroups(dirs: readonly string[]): void {
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    try {
      execFileSync("find", [dir, "-depth", "-type", "d", "-exec", "rmdir", "{}", ";"], { stdio: "ignore" });
    } catch {
      // A directory still holding a process (a machine not yet gone): cleanup() and the leftovers script retry.
    }
  }
}
const cache = process.env.PROBATIO_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "probatio");

export interface BootMachineSpec {
  /** Host name (the machine's name in the plan). */
  readonly name: string;
  /** Its address on the test network. */
  readonly address: string;
  /** The user data, byte for byte what probatio gives the cloud. */
  readonly userData: string;
  /** Other names DNS gives this address (forward and reverse), e.g. a classic VPS's service name. */
  readonly aliases?: readonly string[];
  /**
   * IP forwarding on in the machine's network namespace before it boots: Docker enables it itself on a VM, but
   * systemd-nspawn gives the machine a read-only /proc/sys. Default off.
   */
  readonly ipForward?: boolean;
  /** A machine of another subnet (`addSubnet`): that subnet's gateway and prefix. Default the network's own. */
  readonly subnet?: { readonly gateway: string; readonly prefixLength: number };
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

interface Running {
  readonly spec: BootMachineSpec;
  readonly dir: string;
  readonly netns: string;
  nspawn?: ChildProcess;
  console: string;
}

async function sh(cmd: string, args: string[], timeoutMs = 120_000): Promise<ExecResult> {
  try {
    const r = await execP(cmd, args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code?: number; killed?: boolean; stdout?: string; stderr?: string; message: string };
    // Killed by the timeout: say so (its own output may be empty).
    const killed = e.killed ? `\n(killed after ${timeoutMs / 1000} s)` : "";
    return { code: typeof e.code === "number" ? e.code : 1, stdout: e.stdout ?? "", stderr: (e.stderr ?? e.message) + killed };
  }
}

async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await sh(cmd, args, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** The Debian 12 image (built once, cached outside the repository). */
export async function bootImage(): Promise<string> {
  const out = await must("bash", [join(__dirname, "..", "..", "..", "scripts", "boot-image.sh")]);
  return out.trim().split("\n").pop()!;
}

/** Where a local CA sits in a Debian machine, and its name among the trusted certificates. */
const TEST_CA_FILE = "usr/local/share/ca-certificates/probatio-boot-tests.crt";
const TEST_CA_LINK = "probatio-boot-tests.pem";

/**
 * The test network's CA trusted in a machine's root as `update-ca-certificates` adds a local CA: its file under
 * /usr/local/share/ca-certificates, its link and hash link in /etc/ssl/certs, and its PEM appended to the bundle. File
 * operations only: running update-ca-certificates in each overlay rehashed all of Debian's CAs every time, and two
 * machines at a time (fourteen at once overran minutes), phase 3's last machine started booting 10 minutes after its
 * first. A later `update-ca-certificates` on the machine finds the same file and keeps it.
 */
export async function trustTestCa(root: string, image: string, caPem: string): Promise<void> {
  const certs = join(root, "etc/ssl/certs");
  const hash = (await must("openssl", ["x509", "-hash", "-noout", "-in", join(root, TEST_CA_FILE)])).trim();
  let slot = 0;
  while (existsSync(join(certs, `${hash}.${slot}`))) slot++;
  symlinkSync(`/${TEST_CA_FILE}`, join(certs, TEST_CA_LINK));
  symlinkSync(TEST_CA_LINK, join(certs, `${hash}.${slot}`));
  const bundle = readFileSync(join(image, "etc/ssl/certs/ca-certificates.crt"), "utf8");
  writeFileSync(join(certs, "ca-certificates.crt"), bundle + (caPem.endsWith("\n") ? caPem : `${caPem}\n`));
}

/** apt-cacher-ng on this host's loopback, shared by every network of the process, its cache outside the repository. */
class AptCache {
  /** The one cache of the process (networks booted in parallel share it), and how many networks use it. */
  private static instance?: Promise<AptCache>;
  private static users = 0;
  private readonly procs: ChildProcess[] = [];
  private constructor(readonly socket: string) {}

  static start(): Promise<AptCache> {
    AptCache.users++;
    AptCache.instance ??= AptCache.launch();
    return AptCache.instance;
  }

  private static async launch(): Promise<AptCache> {
    const dir = join(cache, "apt-cacher-ng");
    mkdirSync(dir, { recursive: true });
    // Its socket and logs in a directory of its own: no network's removal takes them from the others.
    const workDir = `${BOOT_WORK_PREFIX}apt-cache`;
    rmSync(workDir, { recursive: true, force: true });
    mkdirSync(workDir, { recursive: true });
    const port = 3142 + Math.floor(Math.random() * 1000);
    const acng = spawn(
      "/usr/sbin/apt-cacher-ng",
      [
        "ForeGround=1",
        `CacheDir=${dir}`,
        `LogDir=${workDir}`,
        `Port=${port}`,
        "BindAddress=127.0.0.1",
        `PidFile=${workDir}/acng.pid`,
        "ExThreshold=365",
      ],
      { stdio: "ignore" },
    );
    const socket = join(workDir, "apt.sock");
    const bridge = spawn("socat", [`UNIX-LISTEN:${socket},fork,unlink-early`, `TCP:127.0.0.1:${port}`], { stdio: "ignore" });
    const cacheInstance = new AptCache(socket);
    cacheInstance.procs.push(acng, bridge);
    for (let i = 0; i < 50 && !existsSync(socket); i++) await sleep(100);
    return cacheInstance;
  }

  /** One network is done with the cache; the last one stops it. */
  static async stop(): Promise<void> {
    if (!AptCache.instance || --AptCache.users > 0) return;
    const instance = await AptCache.instance;
    AptCache.instance = undefined;
    for (const p of instance.procs) p.kill("SIGTERM");
    rmSync(`${BOOT_WORK_PREFIX}apt-cache`, { recursive: true, force: true });
  }
}

/** One private network and the machines booted on it. */
export class BootNetwork {
  private readonly machines = new Map<string, Running>();
  private readonly daemons: ChildProcess[] = [];
  private destroyed = false;
  private trustedCa = "";
  /** The bridge of each subnet, by its gateway address. */
  private readonly bridges = new Map<string, string>();
  private s3: { readonly key: string; readonly secret: string } = S3_STANDIN_CREDENTIALS;

  private constructor(
    /** Name of the test's network namespace: probes run there. */
    readonly netns: string,
    readonly gateway: string,
    readonly prefixLength: number,
    readonly workDir: string,
    private readonly image: string,
  ) {}

  /**
   * A bridge `br0` with `gateway/prefixLength` in a new network namespace, dnsmasq on the gateway for the machines'
   * names, and the apt cache on the gateway's port 3142.
   */
  static async create(
    name: string,
    gateway: string,
    prefixLength: number,
    machines: readonly BootMachineSpec[],
    standins: Standins,
    /** The S3 stand-in's credentials (those the machines' configuration carries). */
    s3Credentials: { readonly key: string; readonly secret: string } = S3_STANDIN_CREDENTIALS,
    /** More names DNS answers (e.g. the stack's public domain at a VRRP address), name → address. */
    names: Readonly<Record<string, string>> = {},
  ): Promise<BootNetwork> {
    const image = await bootImage();
    const workDir = `${BOOT_WORK_PREFIX}${name}`;
    await BootNetwork.cleanup(name);
    mkdirSync(workDir, { recursive: true });
    const netns = `pbt-${name}`;
    await must("ip", ["netns", "add", netns]);
    const net = new BootNetwork(netns, gateway, prefixLength, workDir, image);
    const ns = (...args: string[]) => must("ip", ["-n", netns, ...args]);
    await ns("link", "set", "lo", "up");
    await ns("link", "add", "br0", "type", "bridge");
    await ns("addr", "add", `${gateway}/${prefixLength}`, "dev", "br0");
    await ns("link", "set", "br0", "up");
    net.bridges.set(gateway, "br0");
    // Programs run in the namespace (`ip netns exec`: probes, the operator's probatio) resolve through its dnsmasq.
    mkdirSync(`/etc/netns/${netns}`, { recursive: true });
    writeFileSync(`/etc/netns/${netns}/resolv.conf`, `nameserver ${gateway}\n`);
    const hosts = [
      // The first name is the reverse: a classic VPS's is its OVH service name (as OVH's reverse DNS), which pg_hba names.
      ...machines.map((m) => `--host-record=${[...(m.aliases ?? []), m.name].join(",")},${m.address}`),
      // The S3 stand-in answers under OVH Object Storage's name, on the gateway.
      `--host-record=${S3_NAMES.join(",")},${gateway}`,
      `--host-record=${MAIL_RELAY.name},${gateway}`,
      `--host-record=${ACME_CA.name},${gateway}`,
      ...Object.entries(names).map(([name, address]) => `--host-record=${name},${address}`),
    ];
    net.daemons.push(
      spawn(
        "ip",
        [
          "netns",
          "exec",
          netns,
          "dnsmasq",
          "--keep-in-foreground",
          "--no-resolv",
          "--no-hosts",
          "--bind-interfaces",
          `--listen-address=${gateway}`,
          "--port=53",
          "--pid-file=",
          ...hosts,
        ],
        { stdio: "ignore" },
      ),
    );
    const apt = await AptCache.start();
    net.daemons.push(
      spawn("ip", ["netns", "exec", netns, "socat", `TCP-LISTEN:3142,bind=${gateway},fork,reuseaddr`, `UNIX-CONNECT:${apt.socket}`], {
        stdio: "ignore",
      }),
    );
    net.trustedCa = standins.caCert;
    // The vendors' STAND-IN server (apt repository, npm registry) on the gateway's port 8080.
    net.daemons.push(
      spawn("ip", ["netns", "exec", netns, "node", join(__dirname, "standinServer.js"), standins.webRoot, gateway, String(STANDIN_PORT)], {
        stdio: "ignore",
      }),
    );
    await net.startS3(standins, s3Credentials);
    net.s3 = s3Credentials;
    net.startMailRelay(standins);
    return net;
  }

  /**
   * The SMTP relay the test stack names: Debian's aiosmtpd on the gateway's 587, STARTTLS required with the test CA's
   * certificate, every message stored in a Maildir (read by `mail()`).
   */
  private startMailRelay(standins: Standins): void {
    const maildir = join(this.workDir, "mail");
    this.daemons.push(
      spawn(
        "ip",
        [
          "netns",
          "exec",
          this.netns,
          "/usr/bin/python3",
          "-m",
          "aiosmtpd",
          "-n",
          "-l",
          `${this.gateway}:${MAIL_RELAY.port}`,
          "--tlscert",
          standins.s3Cert,
          "--tlskey",
          standins.s3Key,
          "-c",
          "aiosmtpd.handlers.Mailbox",
          maildir,
        ],
        { stdio: "ignore" },
      ),
    );
  }

  /**
   * The ACME CA of the test network: Pebble on the gateway (its directory at `https://${ACME_CA.name}:${ACME_CA.port}/dir`),
   * validating HTTP-01 on port 80 of the address DNS gives the name, as Let's Encrypt does; its certificates last 20 days
   * (inside certbot's renewal window: each run of a node's timer renews). Returns the path of its root
   * certificate (what a browser trusting Pebble would trust), a file on the host.
   */
  async startAcmeCa(standins: Standins): Promise<string> {
    const pebbleDir = execFileSync("bash", [join(__dirname, "..", "..", "..", "scripts", "build-pebble.sh")], { encoding: "utf8" })
      .trim()
      .split("\n")
      .pop()!;
    const config = join(this.workDir, "pebble.json");
    writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `${this.gateway}:${ACME_CA.port}`,
          managementListenAddress: `${this.gateway}:${ACME_CA.managementPort}`,
          certificate: standins.s3Cert,
          privateKey: standins.s3Key,
          httpPort: 80,
          tlsPort: 443,
          ocspResponderURL: "",
          externalAccountBindingRequired: false,
          // 20 days: inside certbot's 30-day renewal window, so every run of the nodes' timers renews.
          profiles: { default: { description: "20 days", validityPeriod: 20 * 86400 } },
        },
      }),
    );
    this.daemons.push(
      spawn("ip", ["netns", "exec", this.netns, join(pebbleDir, "bin", "pebble"), "-config", config, "-dnsserver", `${this.gateway}:53`], {
        stdio: "ignore",
        // No random sleeps before validations; every nonce accepted (Pebble rejects 5 % by default to test clients).
        env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
      }),
    );
    const root = join(this.workDir, "pebble-root.pem");
    for (let i = 0; i < 100; i++) {
      const r = await this.probe(`curl -fsS --cacert ${standins.caCert} https://${ACME_CA.name}:${ACME_CA.managementPort}/roots/0`);
      if (r.code === 0 && r.stdout.includes("BEGIN CERTIFICATE")) {
        writeFileSync(root, r.stdout);
        return root;
      }
      await sleep(200);
    }
    throw new Error("Pebble (the test network's ACME CA) did not answer");
  }

  /** The messages the SMTP relay received, raw (RFC 5322), oldest first. */
  mail(): string[] {
    const dir = join(this.workDir, "mail", "new");
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .sort()
      .map((f) => readFileSync(join(dir, f), "utf8"));
  }

  /** MinIO over TLS on the gateway's 443, as OVH Object Storage, with an empty bucket for each name given later. */
  private async startS3(standins: Standins, credentials: { readonly key: string; readonly secret: string }): Promise<void> {
    const certs = join(this.workDir, "s3-certs");
    mkdirSync(join(certs, "CAs"), { recursive: true });
    writeFileSync(join(certs, "public.crt"), readFileSync(standins.s3Cert));
    writeFileSync(join(certs, "private.key"), readFileSync(standins.s3Key));
    const data = join(this.workDir, "s3-data");
    mkdirSync(data, { recursive: true });
    this.daemons.push(
      spawn(
        "ip",
        ["netns", "exec", this.netns, standins.minio, "server", data, "--address", `${this.gateway}:443`, "--certs-dir", certs, "--quiet"],
        {
          stdio: "ignore",
          env: {
            ...process.env,
            MINIO_ROOT_USER: credentials.key,
            MINIO_ROOT_PASSWORD: credentials.secret,
            MINIO_BROWSER: "off",
          },
        },
      ),
    );
    for (let i = 0; i < 100; i++) {
      const r = await this.probe(
        `curl -s -o /dev/null -w '%{http_code}' --cacert ${standins.caCert} https://${S3_NAMES[0]}/minio/health/live --resolve ${S3_NAMES[0]}:443:${this.gateway}`,
      );
      if (r.stdout === "200") return;
      await sleep(200);
    }
    throw new Error("the S3 stand-in (MinIO) did not start");
  }

  /** Creates a bucket on the S3 stand-in (as `up` creates it in OVH Object Storage). */
  async createBucket(bucket: string): Promise<void> {
    const { key, secret } = this.s3;
    const r = await this.probe(
      `curl -sS -f -X PUT --aws-sigv4 'aws:amz:gra:s3' --user '${key}:${secret}' --cacert ${this.trustedCa} --resolve ${S3_NAMES[0]}:443:${this.gateway} https://${S3_NAMES[0]}/${bucket}`,
    );
    if (r.code !== 0) throw new Error(`cannot create bucket ${bucket} on the S3 stand-in: ${r.stderr}`);
  }

  /** Removes what an interrupted run of the same network left behind. */
  static async cleanup(name: string): Promise<void> {
    const workDir = `${BOOT_WORK_PREFIX}${name}`;
    const netns = `pbt-${name}`;
    await sh("bash", ["-c", `pkill -f 'nspawn.*${workDir}/' ; sleep 1; pkill -9 -f 'nspawn.*${workDir}/'; true`]);
    // Every overlay mounted under the work directory (machines' roots), innermost first.
    const mounts = readFileSync("/proc/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1])
      .filter((m) => m?.startsWith(`${workDir}/`))
      .sort((a, b) => b.length - a.length);
    for (const m of mounts) await sh("umount", ["-l", m]);
    for (const n of (await sh("ip", ["netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0])) {
      if (n === netns || n.startsWith(`${netns}-`)) {
        await sh("bash", ["-c", `ip netns pids ${n} | xargs -r kill -9`]);
        await sh("ip", ["netns", "del", n]);
      }
    }
    for (const root of cgroupRoots()) {
      for (const group of existsSync(root) ? readdirSync(root) : []) {
        if (group === netns || group.startsWith(`${netns}-`)) removeCgroups([join(root, group)]);
      }
    }
    rmSync(workDir, { recursive: true, force: true });
    rmSync(`/etc/netns/${netns}`, { recursive: true, force: true });
  }

  /**
   * A second subnet in the same namespace (a bridge of its own, routed to the first), e.g. the next phase's private
   * network beside a classic VPS phase's public side. With `natTo`, what leaves it toward the first subnet is
   * source-NATed to that address, as an OVH gateway's NAT gives the private network one public address.
   */
  async addSubnet(gateway: string, prefixLength: number, natTo?: string): Promise<void> {
    const bridge = `br${this.bridges.size}`;
    const ns = (...args: string[]) => must("ip", ["-n", this.netns, ...args]);
    await ns("link", "add", bridge, "type", "bridge");
    await ns("addr", "add", `${gateway}/${prefixLength}`, "dev", bridge);
    await ns("link", "set", bridge, "up");
    this.bridges.set(gateway, bridge);
    await must("ip", ["netns", "exec", this.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    if (natTo) {
      const rules = join(this.workDir, `nat-${bridge}.nft`);
      writeFileSync(
        rules,
        [
          "table ip probatio_nat {",
          "  chain post {",
          "    type nat hook postrouting priority srcnat; policy accept;",
          `    iifname "${bridge}" oifname "br0" snat to ${natTo}`,
          "  }",
          "}",
          "",
        ].join("\n"),
      );
      await must("ip", ["netns", "exec", this.netns, "nft", "-f", rules]);
    }
  }

  /** Seeds and boots the machines (all at once). */
  async boot(specs: readonly BootMachineSpec[]): Promise<void> {
    await Promise.all(specs.map((s, i) => this.bootOne(s, i)));
  }

  private async bootOne(spec: BootMachineSpec, index: number): Promise<void> {
    const dir = join(this.workDir, spec.name);
    const root = join(dir, "root");
    for (const d of ["upper", "work", "root"]) mkdirSync(join(dir, d), { recursive: true });
    await must("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${this.image},upperdir=${dir}/upper,workdir=${dir}/work`, root]);
    // The internet's public CAs are in a cloud image; the test network's CA (for the S3 stand-in) stands in for them.
    mkdirSync(join(root, "usr/local/share/ca-certificates"), { recursive: true });
    const caPem = readFileSync(this.trustedCa, "utf8");
    writeFileSync(join(root, TEST_CA_FILE), caPem);
    await trustTestCa(root, this.image, caPem);
    // The image's own mirror setting, as a cloud image carries its provider's mirror.
    // Only Debian's archive goes through the cache: the vendors' (stand-in) sources are reached directly.
    writeFileSync(
      join(root, "etc/apt/apt.conf.d/01probatio-boot-mirror"),
      `Acquire::http::Proxy::deb.debian.org "http://${this.gateway}:3142";\n`,
    );
    const seed = join(root, "var/lib/cloud/seed/nocloud");
    mkdirSync(seed, { recursive: true });
    writeFileSync(join(seed, "user-data"), spec.userData);
    writeFileSync(join(seed, "meta-data"), `instance-id: ${spec.name}\nlocal-hostname: ${spec.name}\n`);
    writeFileSync(
      join(seed, "network-config"),
      [
        "version: 2",
        "ethernets:",
        "  ens3:",
        `    addresses: [${spec.address}/${spec.subnet?.prefixLength ?? this.prefixLength}]`,
        `    routes: [{to: 0.0.0.0/0, via: ${spec.subnet?.gateway ?? this.gateway}}]`,
        // One resolver for every subnet: dnsmasq on the first gateway (routed).
        `    nameservers: {addresses: [${this.gateway}]}`,
        "",
      ].join("\n"),
    );
    // Each machine in a namespace of its own with an `ens3` (the interface name of OVH's machines), its peer on the bridge.
    const machineNs = `${this.netns}-${index}`;
    await must("ip", ["netns", "add", machineNs]);
    if (spec.ipForward) await must("ip", ["netns", "exec", machineNs, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    await must("ip", ["-n", this.netns, "link", "add", `vm${index}`, "type", "veth", "peer", "name", "ens3", "netns", machineNs]);
    const bridge = this.bridges.get(spec.subnet?.gateway ?? this.gateway);
    if (!bridge) throw new Error(`${spec.name}: no subnet with gateway ${spec.subnet?.gateway} (addSubnet first)`);
    await must("ip", ["-n", this.netns, "link", "set", `vm${index}`, "master", bridge, "up"]);
    const running: Running = { spec, dir, netns: machineNs, console: "" };
    this.machines.set(spec.name, running);
    this.start(running);
  }

  private start(m: Running): void {
    // Its NIC is back when the machine is (a crash took it down); the machine configures its addresses as it boots.
    execFileSync("ip", ["-n", m.netns, "link", "set", "ens3", "up"]);
    const cgroups = machineCgroups(m.netns);
    removeCgroups(cgroups);
    // The shell joins the machine's own control groups, then becomes systemd-nspawn (the same process: signals reach it).
    const joinCgroups =
      'for d in "${@:2:$1}"; do mkdir -p "$d" && echo $$ > "$d/cgroup.procs" || exit 97; done; shift $(($1 + 1)); exec systemd-nspawn "$@"';
    const p = spawn(
      "bash",
      [
        "-c",
        joinCgroups,
        "nspawn",
        String(cgroups.length),
        ...cgroups,
        "-D",
        join(m.dir, "root"),
        "--boot",
        "--register=no",
        "--keep-unit",
        `--network-namespace-path=/run/netns/${m.netns}`,
        // The machine owns its network namespace: it configures its interface, and keepalived sends VRRP.
        "--capability=CAP_NET_ADMIN,CAP_NET_RAW",
        // Its own clock zone and resolver, as on a cloud machine (not the host's bind-mounted files).
        "--timezone=off",
        "--resolv-conf=off",
        `-M`,
        m.spec.name,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    p.stdout!.on("data", (d) => (m.console += d.toString()));
    p.stderr!.on("data", (d) => (m.console += d.toString()));
    m.nspawn = p;
  }

  private machine(name: string): Running {
    const m = this.machines.get(name);
    if (!m) throw new Error(`no machine ${name}; have ${[...this.machines.keys()].join(", ")}`);
    return m;
  }

  /** PID (in this host's PID namespace) of the machine's init. */
  private async initPid(m: Running): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const r = await sh("pgrep", ["-P", String(m.nspawn?.pid)]);
      const pid = Number(r.stdout.trim().split("\n")[0]);
      if (pid > 0) return pid;
      await sleep(100);
    }
    throw new Error(`${m.spec.name} has no init process; console:\n${m.console.slice(-2000)}`);
  }

  /** Runs a command inside a machine, as root. */
  async exec(name: string, command: string, timeoutMs = 120_000): Promise<ExecResult> {
    const pid = await this.initPid(this.machine(name));
    return sh("nsenter", ["-t", String(pid), "-m", "-u", "-i", "-n", "-p", "--", "/bin/bash", "-c", command], timeoutMs);
  }

  /** Runs a command in the network's namespace (where a client of the phase stands). */
  probe(command: string, timeoutMs = 60_000): Promise<ExecResult> {
    return sh("ip", ["netns", "exec", this.netns, "bash", "-c", command], timeoutMs);
  }

  /** Waits for cloud-init to finish on the machine; returns its status and the errors it recorded. */
  async cloudInit(name: string, timeoutMs = 600_000): Promise<{ status: string; errors: string[]; log: string }> {
    const t0 = Date.now();
    let status = "";
    while (Date.now() - t0 < timeoutMs) {
      const r = await this.exec(name, "cloud-init status --long 2>&1 || true");
      status = r.stdout;
      if (/status: (done|error|disabled)/.test(status)) break;
      await sleep(2000);
    }
    const result = await this.exec(name, "cat /run/cloud-init/result.json 2>/dev/null || echo '{}'");
    const parsed = JSON.parse(result.stdout || "{}") as { v1?: { errors?: string[] } };
    const log = (await this.exec(name, "cat /var/log/cloud-init-output.log 2>/dev/null")).stdout;
    const warnings = log.split("\n").filter((l) => /\[WARNING\].*(failed|Failed)|Failed to|E: /.test(l));
    if (!/status: (done|error|disabled)/.test(status)) {
      // Still running when the wait ended: what it is doing says why (a download, a lock, a health check).
      const ps = await this.exec(name, "ps -eo pid,etimes,stat,args | tail -40");
      status += `\nstill running after ${timeoutMs / 1000} s; its processes:\n${ps.stdout}\nthe end of its output:\n${log.split("\n").slice(-15).join("\n")}`;
    }
    return { status: status.trim(), errors: [...(parsed.v1?.errors ?? []), ...warnings], log };
  }

  /** Stops a machine as a crash would (SIGKILL to its container, its NIC gone), or cleanly (poweroff). */
  async stop(name: string, hard = false): Promise<void> {
    const m = this.machine(name);
    if (!m.nspawn || m.nspawn.exitCode !== null || m.nspawn.signalCode !== null) return;
    const exited = new Promise((r) => m.nspawn!.once("exit", r));
    if (hard) {
      // A crash: the NIC goes silent first (no last packet: keepalived must not get to resign), then every process
      // of the machine dies at once (SIGKILL to its init ends its PID namespace), then its container.
      const init = await this.initPid(m);
      await sh("ip", ["-n", m.netns, "link", "set", "ens3", "down"]);
      process.kill(init, "SIGKILL");
      m.nspawn.kill("SIGKILL");
    } else {
      // SIGTERM makes systemd-nspawn ask the machine's init to power off cleanly.
      m.nspawn.kill("SIGTERM");
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 60_000)))]);
    clearTimeout(timer);
    // The machine's network namespace outlives its container: addresses its keepalived had added stay on the
    // interface; a rebooted machine must not find them there.
    if (hard) await sh("ip", ["-n", m.netns, "addr", "flush", "dev", "ens3"]);
    removeCgroups(machineCgroups(m.netns));
  }

  /** Boots a stopped machine again (the same disk: cloud-init's instance is unchanged), and waits until it is up. */
  async restart(name: string): Promise<void> {
    const m = this.machine(name);
    await this.stop(name);
    // A machine that did not power off within the minute (a unit that will not stop) is cut off, as a hypervisor would.
    if (m.nspawn && m.nspawn.exitCode === null && m.nspawn.signalCode === null) await this.stop(name, true);
    this.start(m);
    await this.initPid(m);
    await this.waitBooted(name);
  }

  /** Waits until the machine's systemd has finished starting units ("running", or "degraded" if one failed). */
  async waitBooted(name: string, timeoutMs = 180_000): Promise<string> {
    const t0 = Date.now();
    let state = "";
    while (Date.now() - t0 < timeoutMs) {
      state = (await this.exec(name, "systemctl is-system-running 2>/dev/null")).stdout.trim();
      if (state === "running" || state === "degraded") return state;
      await sleep(1000);
    }
    return state;
  }

  /** The control group of the machine's SSH server, as this host sees it (v2 path, or v1's name=systemd one). */
  async sshCgroup(name: string): Promise<string> {
    const init = await this.initPid(this.machine(name));
    const sshd = (await sh("pgrep", ["-x", "-P", String(init), "sshd"])).stdout.trim().split("\n")[0];
    const lines = readFileSync(`/proc/${sshd}/cgroup`, "utf8").split("\n");
    return (lines.find((l) => l.includes(":name=systemd:")) ?? lines.find((l) => l.startsWith("0::")) ?? "").replace(/^[^:]*:[^:]*:/, "");
  }

  console(name: string): string {
    return this.machine(name).console;
  }

  /** Memory the machines' processes use (resident), MiB: every process in each machine's PID namespace. */
  async memoryMiB(): Promise<number> {
    const namespaces = new Set<string>();
    for (const m of this.machines.values()) {
      const pid = await this.initPid(m).catch(() => 0);
      if (pid) namespaces.add((await sh("ps", ["-o", "pidns=", "-p", String(pid)])).stdout.trim());
    }
    const rows = (await sh("ps", ["-e", "-o", "pidns=,rss="])).stdout.trim().split("\n");
    const kib = rows
      .map((r) => r.trim().split(/\s+/))
      .filter(([ns]) => namespaces.has(ns))
      .reduce((sum, [, rss]) => sum + Number(rss), 0);
    return Math.round(kib / 1024);
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    if (process.env.PROBATIO_BOOT_KEEP === "1") {
      process.stderr.write(`PROBATIO_BOOT_KEEP=1: ${this.netns} and ${this.workDir} kept for inspection\n`);
      return;
    }
    this.destroyed = true;
    await Promise.all([...this.machines.keys()].map((n) => this.stop(n).catch(() => this.stop(n, true))));
    for (const d of this.daemons) d.kill("SIGTERM");
    await AptCache.stop();
    await BootNetwork.cleanup(this.netns.replace(/^pbt-/, ""));
  }
}
