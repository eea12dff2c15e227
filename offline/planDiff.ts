import { DeclaredResource } from "./mockRun";
import { PlanResult } from "./plan";

export interface PlanDiff {
  readonly added: DeclaredResource[];
  readonly removed: DeclaredResource[];
  readonly changed: { type: string; name: string; keys: string[] }[];
}

const key = (r: DeclaredResource) => `${r.type}::${r.name}`;

/** What moving from plan `a` to plan `b` adds, changes (by input key) and removes. */
export function diffPlans(a: PlanResult, b: PlanResult): PlanDiff {
  const before = new Map(a.resources.map((r) => [key(r), r]));
  const after = new Map(b.resources.map((r) => [key(r), r]));
  const added = b.resources.filter((r) => !before.has(key(r)));
  const removed = a.resources.filter((r) => !after.has(key(r)));
  const changed: PlanDiff["changed"] = [];
  for (const r of b.resources) {
    const old = before.get(key(r));
    if (!old) continue;
    const keys = [...new Set([...Object.keys(old.inputs), ...Object.keys(r.inputs)])].filter(
      (k) => JSON.stringify(old.inputs[k]) !== JSON.stringify(r.inputs[k]),
    );
    if (keys.length > 0) changed.push({ type: r.type, name: r.name, keys });
  }
  return { added, removed, changed };
}
