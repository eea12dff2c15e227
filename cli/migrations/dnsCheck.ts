/** Before the source goes: does the public name lead to the target yet? */
import { ExitCode, ProbatioError } from "../../lib/errors";

/**
 * Whether the public name already leads to the target, so the source's entry points can go: none of its addresses
 * may be a source entry point, and, when the target's entry point is known, it must be among them.
 */
export function dnsVerdict(
  domain: string,
  addresses: readonly string[],
  sourceEntries: readonly string[],
  targetEntry?: string,
): string | undefined {
  const stale = addresses.filter((a) => sourceEntries.includes(a));
  if (stale.length > 0) return `${domain} still resolves to the source's entry point ${stale.join(", ")}`;
  if (targetEntry && !addresses.includes(targetEntry))
    return `${domain} resolves to ${addresses.join(", ") || "nothing"}, not to the target's entry point ${targetEntry}`;
  return undefined;
}

/** Refuses (exit 6) while DNS would still send users to machines the decommission is about to remove. */
export async function checkDnsMoved(
  domain: string,
  sourceEntries: readonly string[],
  targetEntry: string | undefined,
  resolver: (name: string) => Promise<string[]> = async (n) => (await import("dns/promises")).resolve4(n),
): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolver(domain);
  } catch (err) {
    throw new ProbatioError(
      `cannot resolve ${domain} to check that DNS points at the target: ${(err as Error).message}`,
      "check from a machine that resolves the public name, or pass --skip-dns-check once you have checked yourself",
      ExitCode.refused,
    );
  }
  const why = dnsVerdict(domain, addresses, sourceEntries, targetEntry);
  if (why) {
    throw new ProbatioError(
      `not decommissioning the source: ${why}; removing it now would cut off the users DNS still sends there`,
      `point ${domain} at ${targetEntry ?? "the target's entry point"}, wait for the record's TTL, then --resume (or --skip-dns-check if you know better)`,
      ExitCode.refused,
    );
  }
  return addresses;
}
