/**
 * Engine-test harness: a temporary project directory, file backend and stub "cloud", with STUB provider plugins
 * on PATH, and a runner for the real `probatio` CLI (which drives the real `pulumi` binary).
 */
import { spawn, ChildProcess } from "child_process";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { delimiter, dirname, join, resolve } from "path";

export const repoRoot = resolve(__dirname, "..", "..", "..");
const cli = join(repoRoot, "bin", "probatio");
const stubJs = join(repoRoot, "dist", "tests", "stub-provider", "stubProvider.js");

const stubPackages: Record<string, string> = {
  ovh: "@ovhcloud/pulumi-ovh",
  openstack: "@pulumi/openstack",
  aws: "@pulumi/aws",
  kubernetes: "@pulumi/kubernetes",
  cloudflare: "@pulumi/cloudflare",
};

function pulumiRoot(): string {
  const { findPulumiRoot } = require("../../cli/engineBinary") as typeof import("../../cli/engineBinary");
  return findPulumiRoot();
}

export interface Sandbox {
  readonly root: string;
  readonly project: string;
  readonly state: string;
  readonly cloud: string;
  readonly env: NodeJS.ProcessEnv;
}

const sandboxes: string[] = [];

/** Removes every sandbox this test file made (call from afterAll). */
export function removeSandboxes(): void {
  for (const root of sandboxes.splice(0)) rmSync(root, { recursive: true, force: true });
}

export function makeSandbox(extraEnv: NodeJS.ProcessEnv = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), "probatio-engine-"));
  sandboxes.push(root);
  const bin = join(root, "bin");
  const project = join(root, "project");
  const state = join(root, "state");
  const cloud = join(root, "cloud");
  for (const d of [bin, project, state, cloud]) mkdirSync(d, { recursive: true });
  for (const [name, npm] of Object.entries(stubPackages)) {
    const version = String(JSON.parse(readFileSync(join(repoRoot, "node_modules", npm, "package.json"), "utf8")).version).replace(/^v/, "");
    const wrapper = join(bin, `pulumi-resource-${name}`);
    writeFileSync(wrapper, `#!/bin/sh\nPROBATIO_STUB_VERSION=${version} exec "${process.execPath}" "${stubJs}" ${name} "$@"\n`);
    chmodSync(wrapper, 0o755);
  }
  copyFileSync(join(repoRoot, "Pulumi.yaml"), join(project, "Pulumi.yaml"));
  const env: NodeJS.ProcessEnv = {
    PATH: [bin, dirname(process.execPath), "/usr/local/bin", "/usr/bin", "/bin"].join(delimiter),
    HOME: process.env.HOME,
    PROBATIO_CACHE: process.env.PROBATIO_CACHE,
    // The engine this test run found (cache, PATH or PROBATIO_PULUMI_ROOT), whatever the sandbox's PATH holds.
    PROBATIO_PULUMI_ROOT: pulumiRoot(),
    PULUMI_HOME: process.env.PULUMI_HOME,
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase",
    PROBATIO_STUB_CLOUD: cloud,
    // The stub cloud's machines do not exist: configuration deliveries go to STAND-IN machines (one directory each).
    PROBATIO_DELIVERY_STANDIN: join(root, "machines"),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    FORCE_COLOR: "0",
    ...extraEnv,
  };
  return { root, project, state, cloud, env };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function startCli(
  sb: Sandbox,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  /** A network namespace to run in (the boot tests' operator stands on the machines' network). */
  netns?: string,
  /** Its own process group, so a test can kill the CLI with the engine and providers it started (a machine dying). */
  detached = false,
): { child: ChildProcess; done: Promise<RunResult> } {
  // Every command but the offline `plan` works on the sandbox's project directory.
  const dirArgs = args[0] === "plan" ? [] : ["--dir", sb.project];
  const command = netns ? ["/usr/sbin/ip", "netns", "exec", netns, process.execPath] : [process.execPath];
  const child = spawn(command[0], [...command.slice(1), cli, ...args, ...dirArgs], {
    env: { ...sb.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<RunResult>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

export function runCli(sb: Sandbox, args: string[], env: NodeJS.ProcessEnv = {}, netns?: string): Promise<RunResult> {
  return startCli(sb, args, env, netns).done;
}

/** Runs the real pulumi binary (as an operator would) in the sandbox. */
export function runPulumi(sb: Sandbox, args: string[]): Promise<RunResult> {
  const { findPulumiRoot } = require("../../cli/engineBinary") as typeof import("../../cli/engineBinary");
  const pulumi = join(findPulumiRoot(), "bin", "pulumi");
  return new Promise((resolve) => {
    const child = spawn(pulumi, args, { cwd: sb.project, env: sb.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The stack's checkpoint file in the file backend. */
export function stateFile(sb: Sandbox, stack: string): string {
  return join(sb.state, ".pulumi", "stacks", "probatio", `${stack}.json`);
}

export interface StateResource {
  urn: string;
  type: string;
  protect?: boolean;
  outputs?: Record<string, unknown>;
}

export function stateResources(sb: Sandbox, stack: string): StateResource[] {
  const f = stateFile(sb, stack);
  if (!existsSync(f)) return [];
  const doc = JSON.parse(readFileSync(f, "utf8"));
  return (doc.checkpoint?.latest?.resources ?? []) as StateResource[];
}

/** The update locks the sandbox's file backend holds (one JSON file per lock, under .pulumi/locks). */
export function stackLocks(sb: Sandbox): string[] {
  const files = (d: string): string[] =>
    existsSync(d) ? readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [e.name])) : [];
  return files(join(sb.state, ".pulumi", "locks")).filter((f) => f.endsWith(".json"));
}

export function cloudObjects(sb: Sandbox): string[] {
  return readdirSync(sb.cloud).filter((f) => f.endsWith(".json"));
}

export async function configure(sb: Sandbox, stack: string, password = "Correct-Horse-Battery-42"): Promise<void> {
  const a = await runCli(sb, ["config", "set", "--stack", stack, "cloudProject", "0123456789abcdef"]);
  if (a.code !== 0) throw new Error(`config set failed: ${a.stderr}`);
  const b = await runCli(sb, ["config", "set", "--stack", stack, "--secret", "dbPassword", password]);
  if (b.code !== 0) throw new Error(`config set failed: ${b.stderr}`);
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Copies what a deployed stack is made of (state backend, stub cloud, settings files, STAND-IN machines) and returns
 * a function that puts it all back: one deployment of a source serves every scenario run against it.
 */
export function snapshotSandbox(sb: Sandbox): () => void {
  const keep = mkdtempSync(join(sb.root, "snapshot-"));
  const parts = [sb.state, sb.cloud, sb.project, join(sb.root, "machines")].filter((d) => existsSync(d));
  parts.forEach((d, i) => cpSync(d, join(keep, String(i)), { recursive: true }));
  return () =>
    parts.forEach((d, i) => {
      rmSync(d, { recursive: true, force: true });
      cpSync(join(keep, String(i)), d, { recursive: true });
    });
}
