/** What runs on a load balancer node: HAProxy, and keepalived for a VRRP pair. Pure. */
import { DEFAULT_ACME, ports } from "../../lib/defaults";
import { acmeBundle } from "./acme";
import { mergeBundles, ServiceBundle } from "./bundle";
import { HaproxyBackend, renderHaproxyCfg, renderKeepalivedConf } from "./haproxy";

export interface HaproxyNodeSettings {
  readonly index: number;
  readonly backends: readonly HaproxyBackend[];
  readonly healthPath: string;
  readonly statsAddress: string;
  /** Concurrent client connections HAProxy accepts (it needs twice as many file descriptors). */
  readonly maxConnections: number;
  /** Health checks of the backends. */
  readonly healthCheck: { readonly intervalMs: number; readonly fall: number; readonly rise: number };
  readonly domain?: string;
  /** The origin's certificate for `domain` by ACME (Let's Encrypt unless `directory` says otherwise). */
  readonly acme?: { readonly email: string; readonly directory?: string };
  readonly vrrp?: {
    readonly routerId: number;
    readonly authPass: string;
    readonly virtualIp: string;
    readonly prefixLength: number;
    readonly nodeIps: readonly string[];
  };
}

/** HAProxy (and keepalived for a pair) on node i. Pure. */
export function haproxyNodeBundle(s: HaproxyNodeSettings): ServiceBundle {
  const cert = "/etc/haproxy/certs/site.pem";
  const acme =
    s.acme && s.domain
      ? {
          domain: s.domain,
          email: s.acme.email,
          directory: s.acme.directory,
          certPath: cert,
          challengePort: DEFAULT_ACME.challengePort,
          challengeAddress: s.vrrp ? s.vrrp.nodeIps[s.index] : undefined,
        }
      : undefined;
  const files = [
    {
      path: "/etc/haproxy/haproxy.cfg",
      content: renderHaproxyCfg({
        http: { address: "*", port: ports.http },
        https: { address: "*", port: ports.https, certPath: cert },
        backends: s.backends,
        healthPath: s.healthPath,
        checkIntervalMs: s.healthCheck.intervalMs,
        fall: s.healthCheck.fall,
        rise: s.healthCheck.rise,
        stats: { address: s.statsAddress, port: ports.haproxyStats },
        maxconn: s.maxConnections,
        runtimeApi: { address: "127.0.0.1", port: ports.haproxyRuntimeApi },
        migrationSlot: { tls: { sni: s.domain } },
        acmeChallenge: acme ? { port: acme.challengePort, servers: s.vrrp?.nodeIps } : undefined,
      }),
    },
  ];
  const commands = [
    // A self-signed certificate until the operator installs the real one, so HAProxy starts on first boot.
    `test -s ${cert} || (mkdir -p /etc/haproxy/certs && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=probatio -keyout /tmp/k.pem -out /tmp/c.pem && cat /tmp/c.pem /tmp/k.pem > ${cert} && rm /tmp/k.pem /tmp/c.pem)`,
    "systemctl restart haproxy",
  ];
  const packages = ["haproxy", "openssl"];
  if (s.vrrp) {
    packages.push("keepalived");
    files.push({
      path: "/etc/keepalived/keepalived.conf",
      content: renderKeepalivedConf({
        instance: "probatio_lb",
        interface: "ens3",
        state: s.index === 0 ? "MASTER" : "BACKUP",
        priority: s.index === 0 ? 150 : 100,
        virtualRouterId: s.vrrp.routerId,
        authPass: s.vrrp.authPass,
        virtualIp: s.vrrp.virtualIp,
        prefixLength: s.vrrp.prefixLength,
        unicastSrcIp: s.vrrp.nodeIps[s.index],
        unicastPeers: s.vrrp.nodeIps.filter((_, i) => i !== s.index),
        checkCommand: "/usr/bin/pgrep -x haproxy",
        checkIntervalSeconds: 1,
      }),
    });
    commands.push("systemctl restart keepalived");
  }
  const node: ServiceBundle = { packages, files, commands, services: s.vrrp ? ["haproxy", "keepalived"] : ["haproxy"] };
  return acme ? mergeBundles([node, acmeBundle(acme)]) : node;
}
