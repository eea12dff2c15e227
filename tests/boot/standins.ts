/**
 * Stand-ins, built on this host, for what the machines fetch from outside Debian and what cannot exist here; each is
 * named as one:
 * - a STAND-IN apt repository (signed with a key made here) holding packages named gitlab-runner and grafana, whose
 *   only content is a systemd service of that name that stays up: GitLab's and Grafana's repositories are not
 *   reachable, and their real packages cannot be fetched;
 * - a STAND-IN npm registry serving npm's tarball, PM2 (the pinned versions) and PM2's dependencies, fetched once from
 *   the real registry by this host's npm;
 * - a test CA, trusted by the machines, and MinIO (built from the Go module proxy) serving S3 over TLS under OVH Object
 *   Storage's name, with the rendered configuration's (placeholder) credentials.
 * Built once into a cache outside the repository; served in the test network by `serveStandins`.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { join } from "path";
import { NPM_RELEASE, PM2_VERSION } from "../../components/config/vendor";
import { buildStandinReleases, StandinRelease } from "./standinApp";

const cache = process.env.PROBATIO_CACHE ?? join(process.env.HOME ?? "/root", ".cache", "probatio");
const run = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}) =>
  execFileSync(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
  }).toString();

export interface Standins {
  /** Served over HTTP: apt/ (the repository, apt/key.asc its key) and npm/ (the registry). */
  readonly webRoot: string;
  /** The test CA's certificate (PEM), and the S3 endpoint's certificate and key, named for OVH's endpoint. */
  readonly caCert: string;
  readonly s3Cert: string;
  readonly s3Key: string;
  readonly minio: string;
  /** The STAND-IN application's releases, served under webRoot. */
  readonly releases: readonly StandinRelease[];
}

/** The names of the STAND-IN packages and the units they run. */
export const STANDIN_PACKAGES = [
  { name: "gitlab-runner", unit: "gitlab-runner" },
  { name: "grafana", unit: "grafana-server" },
] as const;

/** Every name the S3 stand-in answers to (OVH Object Storage's endpoints of the regions the roadmaps use). */
export const S3_NAMES = ["s3.gra.io.cloud.ovh.net"];

/** The SMTP relay a test stack sets (alertSmtpRelay): a real SMTP server (aiosmtpd) on the gateway, STARTTLS on 587. */
export const MAIL_RELAY = { name: "smtp.relay.test", port: 587 } as const;

/**
 * The ACME certificate authority a test stack sets (acmeDirectory): Pebble (Let's Encrypt's test CA) on the gateway, its
 * directory served over TLS with the stand-ins' certificate (the machines trust the test CA, as they trust public ones).
 */
export const ACME_CA = { name: "acme.ca.test", port: 14000, managementPort: 15000 } as const;

function buildAptRepo(dir: string): void {
  const pool = join(dir, "pool");
  mkdirSync(pool, { recursive: true });
  for (const p of STANDIN_PACKAGES) {
    const root = join(dir, "build", p.name);
    mkdirSync(join(root, "DEBIAN"), { recursive: true });
    mkdirSync(join(root, "lib/systemd/system"), { recursive: true });
    writeFileSync(
      join(root, "DEBIAN/control"),
      `Package: ${p.name}\nVersion: 0.0.0-probatio-standin\nArchitecture: all\nMaintainer: probatio tests <tests@probatio.invalid>\nDescription: STAND-IN for ${p.name} (boot tests: the vendor's package cannot be fetched here)\n`,
    );
    writeFileSync(
      join(root, `lib/systemd/system/${p.unit}.service`),
      `[Unit]\nDescription=STAND-IN for ${p.unit} (probatio boot tests)\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n`,
    );
    run("dpkg-deb", ["--root-owner-group", "--build", root, join(pool, `${p.name}_0.0.0_all.deb`)]);
  }
  const dists = join(dir, "dists", "stable", "main", "binary-all");
  mkdirSync(dists, { recursive: true });
  writeFileSync(join(dists, "Packages"), run("dpkg-scanpackages", ["--multiversion", "pool"], { cwd: dir }));
  // The same repository answers for every suite the rendered sources name (GitLab's "bookworm", Grafana's "stable").
  for (const suite of ["stable", "bookworm"]) {
    const d = join(dir, "dists", suite);
    if (suite !== "stable") {
      mkdirSync(join(d, "main", "binary-all"), { recursive: true });
      writeFileSync(join(d, "main", "binary-all", "Packages"), readFileSync(join(dists, "Packages")));
    }
    const release = run("apt-ftparchive", [
      "-o",
      `APT::FTPArchive::Release::Suite=${suite}`,
      "-o",
      "APT::FTPArchive::Release::Architectures=all amd64",
      "-o",
      "APT::FTPArchive::Release::Components=main",
      "release",
      d,
    ]);
    writeFileSync(join(d, "Release"), release);
  }
  const gnupg = join(dir, "gnupg");
  mkdirSync(gnupg, { recursive: true, mode: 0o700 });
  const env = { GNUPGHOME: gnupg };
  run(
    "gpg",
    [
      "--batch",
      "--pinentry-mode",
      "loopback",
      "--passphrase",
      "",
      "--quick-gen-key",
      "probatio STAND-IN repository <standin@probatio.invalid>",
      "ed25519",
      "sign",
      "never",
    ],
    { env },
  );
  writeFileSync(join(dir, "key.asc"), run("gpg", ["--armor", "--export"], { env }));
  for (const suite of ["stable", "bookworm"]) {
    const d = join(dir, "dists", suite);
    run("gpg", ["--batch", "--yes", "--clearsign", "-o", join(d, "InRelease"), join(d, "Release")], { env });
  }
  rmSync(join(dir, "build"), { recursive: true, force: true });
}

interface LockEntry {
  readonly version: string;
  readonly resolved?: string;
  readonly integrity?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly bin?: Record<string, string>;
  readonly engines?: Record<string, string>;
}

/** PM2 and its dependency tree, as the real registry gave them to this host's npm, served as a registry of its own. */
function buildNpmRegistry(dir: string): void {
  const work = join(dir, "work");
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, "package.json"), JSON.stringify({ name: "standin", version: "1.0.0", private: true }));
  run("npm", ["install", `pm2@${PM2_VERSION}`, "--ignore-scripts", "--no-audit", "--no-fund", "--package-lock-only"], { cwd: work });
  const lock = JSON.parse(readFileSync(join(work, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const registry = run("npm", ["config", "get", "registry"]).trim().replace(/\/?$/, "/");
  const packuments = new Map<string, { versions: Record<string, unknown>; latest: string }>();
  mkdirSync(join(dir, "tarballs"), { recursive: true });
  // npm's own tarball, which the machines fetch by the registry's path and check against its pinned sha512.
  const npm = join(dir, "tarballs", `npm-${NPM_RELEASE.version}.tgz`);
  if (!existsSync(npm)) run("curl", ["-fsSL", "-o", npm, `${registry}npm/-/npm-${NPM_RELEASE.version}.tgz`]);
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path) continue;
    const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    // npm leaves `resolved` out of the lock for the default registry: the tarball is where the registry keeps it.
    const resolved = entry.resolved ?? `${registry}${name}/-/${name.split("/").pop()}-${entry.version}.tgz`;
    const file = `${name.replace("/", "__")}-${entry.version}.tgz`;
    const target = join(dir, "tarballs", file);
    if (!existsSync(target)) run("curl", ["-fsSL", "-o", target, resolved]);
    const p = packuments.get(name) ?? { versions: {}, latest: entry.version };
    p.versions[entry.version] = {
      name,
      version: entry.version,
      dependencies: entry.dependencies ?? {},
      optionalDependencies: entry.optionalDependencies ?? {},
      bin: entry.bin,
      engines: entry.engines,
      dist: { tarball: `TARBALL_BASE/${file}`, integrity: entry.integrity },
    };
    packuments.set(name, p);
  }
  for (const [name, p] of packuments) {
    const doc = { name, "dist-tags": { latest: p.latest }, versions: p.versions };
    const path = join(dir, "packuments", `${name.replace("/", "%2f")}.json`);
    mkdirSync(join(dir, "packuments"), { recursive: true });
    writeFileSync(path, JSON.stringify(doc));
  }
  rmSync(work, { recursive: true, force: true });
}

function buildCa(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const o = (args: string[]) => run("openssl", args, { cwd: dir });
  o([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "3650",
    "-subj",
    "/CN=probatio boot tests CA (STAND-IN)",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
  ]);
  o([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    `/CN=${S3_NAMES[0]}`,
    "-keyout",
    "s3.key",
    "-out",
    "s3.csr",
  ]);
  writeFileSync(join(dir, "s3.ext"), `subjectAltName=${[...S3_NAMES, MAIL_RELAY.name, ACME_CA.name].map((n) => `DNS:${n}`).join(",")}\n`);
  o([
    "x509",
    "-req",
    "-in",
    "s3.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "3650",
    "-extfile",
    "s3.ext",
    "-out",
    "s3.crt",
  ]);
}

export function buildStandins(): Standins {
  // Rebuilt when this file or PM2's version changes.
  const version = createHash("sha256")
    .update(readFileSync(__filename))
    .update(readFileSync(join(__dirname, "standinApp.js")))
    .update(PM2_VERSION)
    .digest("hex")
    .slice(0, 12);
  const root = join(cache, "boot", `standins-${version}`);
  const minio = run("bash", [join(__dirname, "..", "..", "..", "scripts", "build-minio.sh")])
    .trim()
    .split("\n")
    .pop()!;
  if (!existsSync(join(root, ".complete"))) {
    // Earlier versions' stand-ins are never used again: the cache keeps one.
    for (const d of existsSync(join(cache, "boot")) ? readdirSync(join(cache, "boot"), { withFileTypes: true }) : []) {
      if (d.isDirectory() && d.name.startsWith("standins-")) rmSync(join(cache, "boot", d.name), { recursive: true, force: true });
    }
    buildAptRepo(join(root, "web", "apt"));
    buildNpmRegistry(join(root, "web", "npm"));
    buildCa(join(root, "ca"));
    buildStandinReleases(join(root, "web"), join(__dirname, "..", "..", ".."));
    writeFileSync(join(root, ".complete"), "");
  }
  return {
    webRoot: join(root, "web"),
    caCert: join(root, "ca", "ca.crt"),
    s3Cert: join(root, "ca", "s3.crt"),
    s3Key: join(root, "ca", "s3.key"),
    minio,
    releases: buildStandinReleases(join(root, "web"), join(__dirname, "..", "..", "..")),
  };
}
