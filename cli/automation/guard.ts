/**
 * Nothing half-applied: before an update that could delete or rebuild something (`up`, a migration's provisioning,
 * decommission and rollback), the engine's preview of that very update is read, and the update is refused (exit 6,
 * nothing changed) when it would replace or delete a protected resource, or rebuild a machine that holds data.
 * The engine itself refuses a protected resource's replacement only when it reaches it, half-way through.
 */
import { ExitCode, ProbatioError } from "../../lib/errors";
import { runEngine } from "./operation";
import { POLICY_PACKS, type Stack } from "./workspace";

export interface PlannedChange {
  readonly urn: string;
  readonly name: string;
  readonly type: string;
  readonly op: "replace" | "delete";
  /** The inputs whose change causes it. */
  readonly keys: readonly string[];
  readonly protect: boolean;
  readonly dataBearing: boolean;
}

const MACHINE_TYPES = new Set(["openstack:compute/instance:Instance", "ovh:Vps/vps:Vps"]);
/** Components whose machines hold a data store. */
const DATA_COMPONENTS = ["probatio:database:PostgresCluster", "probatio:cache:RedisSentinel", "probatio:k8s:K8sPlatform"];
/** Fleets whose machines hold data themselves: the all-in-ones' PostgreSQL, KoproGo's Compose volume. */
const DATA_ROLES = /^(allinone|app)-\d+$/;

/** Whether a resource is a machine whose disk holds data (a rebuild would lose what is not replicated elsewhere). */
export function isDataBearing(urn: string, type: string): boolean {
  if (!MACHINE_TYPES.has(type)) return false;
  const [chain, name] = [urn.split("::")[2] ?? "", urn.split("::").pop() ?? ""];
  return DATA_COMPONENTS.some((c) => chain.includes(c)) || DATA_ROLES.test(name);
}

/** A machine's configuration resource: replacing it delivers the configuration afresh and changes nothing on the disk. */
const isMachineConfig = (type: string) => type === "pulumi-nodejs:dynamic/probatio:MachineConfig";

/** The replacements and deletions the engine's preview of the stack's next update shows. */
export async function plannedChanges(stack: Stack): Promise<PlannedChange[]> {
  const state = await stack.exportStack();
  const protectedUrns = new Set(
    (state.deployment?.resources ?? []).filter((r: { protect?: boolean }) => r.protect).map((r: { urn: string }) => r.urn),
  );
  const found = new Map<string, PlannedChange>();
  // The engine's preview itself stops at a protected resource it would have to replace or delete: what it names is
  // refused like what the events show.
  const refusedByEngine = (err: unknown) => {
    const text = String(err);
    const urns = [
      ...[...text.matchAll(/unable to (replace|delete) resource "(urn:[^"]+)"/g)].map((m) => [m[1], m[2]]),
      ...[...text.matchAll(/resource "?(urn:[^"\s]+)"? cannot be deleted\s+because it is protected/g)].map((m) => ["delete", m[1]]),
    ];
    if (urns.length === 0) throw err;
    for (const [op, urn] of urns) {
      const type = urn.split("::")[2]?.split("$").pop() ?? "";
      found.set(urn, {
        urn,
        name: urn.split("::").pop() ?? urn,
        type,
        op: op as "replace" | "delete",
        keys: found.get(urn)?.keys ?? [],
        protect: true,
        dataBearing: isDataBearing(urn, type),
      });
    }
  };
  await runEngine(stack.name, (signal) =>
    stack
      .preview({
        color: "never",
        signal,
        policyPacks: POLICY_PACKS,
        onEvent: (e) => {
          const m = e.resourcePreEvent?.metadata;
          if (!m || !["replace", "create-replacement", "delete-replaced", "delete"].includes(m.op)) return;
          const op = m.op === "delete" && found.get(m.urn)?.op !== "replace" ? "delete" : "replace";
          found.set(m.urn, {
            urn: m.urn,
            name: m.urn.split("::").pop() ?? m.urn,
            type: m.type,
            op,
            keys: m.diffs ?? m.keys ?? found.get(m.urn)?.keys ?? [],
            protect: protectedUrns.has(m.urn) || !!m.old?.protect,
            dataBearing: isDataBearing(m.urn, m.type),
          });
        },
      })
      .catch(refusedByEngine),
  );
  return [...found.values()].filter((c) => !isMachineConfig(c.type));
}

const describe = (c: PlannedChange) =>
  `${c.op} ${c.name} (${c.type}${c.keys.length ? `; ${c.keys.join(", ")} changed` : ""}${c.protect ? "; protected" : c.dataBearing ? "; holds data" : ""})`;

export interface GuardRules {
  /** Replacements and deletions the update is meant to make (anything else is refused). */
  readonly allowed: (c: PlannedChange) => boolean;
  /** Protected resources the caller releases from the stack before the update (they stay in the cloud). */
  readonly released?: (c: PlannedChange) => boolean;
  /** What to do about an unexpected change. */
  readonly hint: string;
}

/**
 * Refuses (exit 6) an update whose preview replaces or deletes a protected resource, rebuilds a machine holding
 * data, or makes any other replacement or deletion the rules do not allow. `what` names the update.
 */
export async function refuseUnsafeChanges(stack: Stack, what: string, rules: GuardRules): Promise<PlannedChange[]> {
  const changes = (await plannedChanges(stack)).filter((c) => !rules.released?.(c));
  const never = changes.filter((c) => c.protect || (c.dataBearing && c.op === "replace"));
  const unexpected = changes.filter((c) => !never.includes(c) && !rules.allowed(c));
  if (never.length > 0) {
    throw new ProbatioError(
      `${what} would ${never.map(describe).join("; ")}. Nothing was changed`,
      "protected data stores are never replaced or deleted, and a machine holding data is never rebuilt by an update: move its data first (a migration does), or undo the change that causes it",
      ExitCode.refused,
    );
  }
  if (unexpected.length > 0) {
    throw new ProbatioError(`${what} would ${unexpected.map(describe).join("; ")}. Nothing was changed`, rules.hint, ExitCode.refused);
  }
  return changes;
}
