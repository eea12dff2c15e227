/**
 * The shell scripts a delivery runs on a machine (as root, through sudo), one per plan. Each stops at its first failure
 * and writes the manifest last: a delivery cut short leaves the previous manifest, and the next one redoes the rest.
 */
import { CLOUD_INIT_USER_DATA, DeliveredFile, Manifest, MANIFEST_FILE } from "./configuration";
import { DeliveryPlan } from "./plan";
import { OwnerAction } from "./owners";

/** Where cloud-init's NoCloud datasource reads a seed (the boot tests seed first boots there too). */
export const NOCLOUD_SEED = "/var/lib/cloud/seed/nocloud";

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/** Writes a file atomically (a temporary file in its directory, then a rename) with its owner and mode. */
function writeFile(path: string, content: string, permissions: string, owner: string): string {
  return `put ${quote(path)} ${quote(permissions)} ${quote(owner)} ${quote(b64(content))}`;
}

const PRELUDE = [
  "set -eu",
  "export DEBIAN_FRONTEND=noninteractive",
  `put() { d=$(dirname "$1"); mkdir -p "$d"; t=$(mktemp "$d/.probatio.XXXXXX"); printf '%s' "$4" | base64 -d > "$t"; chown "$3" "$t"; chmod "$2" "$t"; mv -f "$t" "$1"; }`,
];

const writeManifest = (m: Manifest) => writeFile(MANIFEST_FILE, JSON.stringify(m, null, 2) + "\n", "0644", "root:root");

function actionCommand(a: OwnerAction): string {
  switch (a.kind) {
    case "reload":
      return `systemctl reload-or-restart ${quote(a.unit)}`;
    case "restart":
      return `systemctl restart ${quote(a.unit)}`;
    case "command":
      return a.command;
    case "none":
      return ":";
    default: {
      const never: never = a;
      return never;
    }
  }
}

/** The script that reports a machine's state: its manifest, then the user data its cloud-init ran (base64). */
export const REPORT_SCRIPT = [
  "set -u",
  // A machine still in its first boot finishes it first (a Public Cloud instance just created).
  "cloud-init status --wait >/dev/null 2>&1 || true",
  `cat ${MANIFEST_FILE} 2>/dev/null || true`,
  "echo '@@probatio@@'",
  `base64 -w0 ${CLOUD_INIT_USER_DATA} 2>/dev/null || true`,
].join("\n");

/** Splits what REPORT_SCRIPT printed. */
export function parseReport(stdout: string): { manifest?: string; cloudInitUserData?: string } {
  const [manifest, userData] = stdout.split("@@probatio@@\n");
  const text = (userData ?? "").trim();
  return {
    manifest: manifest?.trim() ? manifest : undefined,
    cloudInitUserData: text ? Buffer.from(text, "base64").toString("utf8") : undefined,
  };
}

/** The script that carries a plan out; undefined when there is nothing to do. */
export function deliveryScript(plan: DeliveryPlan): string | undefined {
  switch (plan.kind) {
    case "unchanged":
      return undefined;
    case "record":
      return [...PRELUDE, writeManifest(plan.manifest)].join("\n") + "\n";
    case "first":
      return firstScript(plan.userData, plan.hostname, plan.manifest);
    case "delta":
      return deltaScript(plan.files, plan.packages, plan.enable, plan.actions, plan.daemonReload, plan.manifest);
    default: {
      const never: never = plan;
      return never;
    }
  }
}

/**
 * cloud-init runs the configuration as on a first boot: a NoCloud seed with a new instance id, its stages run in
 * order. The machine keeps its SSH host keys (`ssh_deletekeys: false` in the seed; a new instance id would otherwise
 * regenerate them, and the key the operator pinned would no longer match). A network-config already in the seed (the
 * cloud's) is kept.
 */
function firstScript(userData: string, hostname: string, manifest: Manifest): string {
  const seeded = userData.replace(/\n?$/, "\n") + "ssh_deletekeys: false\n";
  const instanceId = `probatio-${hostname || "machine"}`;
  return (
    [
      ...PRELUDE,
      writeFile(`${NOCLOUD_SEED}/user-data`, seeded, "0600", "root:root"),
      writeFile(`${NOCLOUD_SEED}/meta-data`, `instance-id: ${instanceId}\nlocal-hostname: ${hostname}\n`, "0644", "root:root"),
      "cloud-init clean --logs",
      "cloud-init init >/var/log/probatio-delivery.log 2>&1",
      "cloud-init modules --mode=config >>/var/log/probatio-delivery.log 2>&1",
      "cloud-init modules --mode=final >>/var/log/probatio-delivery.log 2>&1 || true",
      // The final stage's failures (a package, a first-boot command) are in cloud-init's own status: report them.
      `if ! cloud-init status --long >/tmp/probatio-ci-status 2>&1; then cat /tmp/probatio-ci-status >&2; tail -n 40 /var/log/cloud-init-output.log >&2; exit 1; fi`,
      writeManifest(manifest),
    ].join("\n") + "\n"
  );
}

function deltaScript(
  files: readonly DeliveredFile[],
  packages: readonly string[],
  enable: readonly string[],
  actions: readonly OwnerAction[],
  daemonReload: boolean,
  manifest: Manifest,
): string {
  const lines = [...PRELUDE];
  // Packages first: a file may belong to a new package's user, and a new service's unit comes with its package.
  if (packages.length > 0) lines.push(`apt-get update -q`, `apt-get install -y -q ${packages.map(quote).join(" ")}`);
  for (const f of files) lines.push(writeFile(f.path, f.content, f.permissions, f.owner));
  if (daemonReload) lines.push("systemctl daemon-reload");
  for (const unit of enable) lines.push(`systemctl enable --now ${quote(unit)}`);
  for (const a of actions) lines.push(actionCommand(a));
  lines.push(writeManifest(manifest));
  return lines.join("\n") + "\n";
}
