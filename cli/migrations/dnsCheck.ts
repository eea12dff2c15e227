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

/** Resolves CNAMEs by asking `server` ("host:port", e.g. the zone's own server: no cache in the way) or the system's. */
export async function cnameResolver(server?: string): Promise<(name: string) => Promise<string[]>> {
  const dns = await import("dns/promises");
  const resolver = new dns.Resolver({ timeout: 3000, tries: 2 });
  if (server) {
    const [host, port] = [server.slice(0, server.lastIndexOf(":")), server.slice(server.lastIndexOf(":") + 1)];
    const { address } = await dns.lookup(host, { family: 4 });
    resolver.setServers([`${address}:${port}`]);
  }
  return (name) => resolver.resolveCname(name);
}

/**
 * Refuses (exit 6) while a public name probatio manages still leads to the source. Behind Cloudflare's proxy the name
 * resolves to Cloudflare's addresses whatever the origin: the record's content, as the stack last wrote it, is what
 * must name the target's origin. Otherwise DNS is asked for the name's CNAME.
 */
export async function checkManagedDnsMoved(o: {
  readonly domain: string;
  /** The target's origin name. */
  readonly targetOrigin: string;
  /** The public name's record as the stack wrote it. */
  readonly record: { readonly live: string; readonly proxied: boolean };
  readonly resolveCname: (name: string) => Promise<string[]>;
}): Promise<string> {
  const refuse = (why: string, fix: string) => {
    throw new ProbatioError(
      `not decommissioning the source: ${why}; removing it now would cut off the users DNS still sends there`,
      fix,
      ExitCode.refused,
    );
  };
  const same = (a: string, b: string) => a.replace(/\.$/, "").toLowerCase() === b.replace(/\.$/, "").toLowerCase();
  if (o.record.proxied) {
    if (!same(o.record.live, o.targetOrigin))
      refuse(
        `${o.domain}'s record points at ${o.record.live}, not the target's origin ${o.targetOrigin}`,
        "--resume runs the switch-dns step first",
      );
    return `${o.domain}'s record points at ${o.record.live} (behind Cloudflare's proxy, which follows it at once)`;
  }
  let names: string[] = [];
  try {
    names = await o.resolveCname(o.domain);
  } catch (err) {
    refuse(
      `cannot resolve ${o.domain}'s CNAME to check that DNS points at the target: ${(err as Error).message}`,
      "set dnsResolver to the zone's own server (host:port), or pass --skip-dns-check once you have checked yourself",
    );
  }
  if (!names.some((n) => same(n, o.targetOrigin)))
    refuse(
      `${o.domain} is a CNAME to ${names.join(", ") || "nothing"}, not to the target's origin ${o.targetOrigin}`,
      `wait for the zone's servers to publish the switch (the record's TTL), then --resume (or --skip-dns-check if you know better)`,
    );
  return `${o.domain} is a CNAME to ${o.targetOrigin}: the target`;
}
