import { Address4 } from "ip-address";

/** CIDR helpers on top of the ip-address library. */
export function parseCidr(cidr: string): Address4 | undefined {
  if (!Address4.isValid(cidr) || !cidr.includes("/")) return undefined;
  return new Address4(cidr);
}

export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return !!o && !!i && i.isInSubnet(o);
}

export function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** The n-th host address of a CIDR (n from 1), e.g. hostAddress("10.0.1.0/24", 10) = "10.0.1.10". */
export function hostAddress(cidr: string, n: number): string {
  const start = parseCidr(cidr)!.startAddress().bigInt();
  return Address4.fromBigInt(start + BigInt(n)).address;
}

/** Whether `text` is one IPv4 address (not a CIDR, not a host name). */
export function isIpv4Address(text: string): boolean {
  return !text.includes("/") && Address4.isValid(text);
}

const PRIVATE_OR_LOOPBACK = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8"];

/** Whether an address or CIDR lies in a private (RFC 1918) or loopback range: traffic that never crosses the internet. */
export function isPrivateOrLoopback(addressOrCidr: string): boolean {
  const cidr = addressOrCidr.includes("/") ? addressOrCidr : `${addressOrCidr}/32`;
  return PRIVATE_OR_LOOPBACK.some((range) => cidrContains(range, cidr));
}
