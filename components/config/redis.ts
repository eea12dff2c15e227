/** Redis and Sentinel configuration. Pure functions. */

export interface RedisSettings {
  readonly bind: string;
  readonly port: number;
  readonly password: string;
  readonly maxmemory: string;
  readonly maxmemoryPolicy: string;
  readonly dir: string;
  /** For a replica: the master to follow. */
  readonly replicaOf?: { readonly host: string; readonly port: number };
  /** Run in the foreground (tests) instead of as a systemd-supervised daemon. Default false. */
  readonly foreground?: boolean;
}

const quote = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function renderRedisConf(s: RedisSettings): string {
  const lines = [
    "# Rendered by probatio.",
    `bind ${s.bind}`,
    "protected-mode yes",
    `port ${s.port}`,
    `requirepass ${quote(s.password)}`,
    `masterauth ${quote(s.password)}`,
    `maxmemory ${s.maxmemory}`,
    `maxmemory-policy ${s.maxmemoryPolicy}`,
    `dir ${s.dir}`,
    "appendonly yes",
    "appendfsync everysec",
    "replica-read-only yes",
    "min-replicas-to-write 0",
    'rename-command FLUSHALL ""',
    'rename-command DEBUG ""',
    s.foreground ? "daemonize no" : "supervised systemd",
  ];
  if (s.replicaOf) lines.push(`replicaof ${s.replicaOf.host} ${s.replicaOf.port}`);
  return lines.join("\n") + "\n";
}

export interface SentinelSettings {
  readonly bind: string;
  readonly port: number;
  readonly masterName: string;
  readonly masterHost: string;
  readonly masterPort: number;
  /** Sentinels that must agree the master is down (seed: quorum 2 of 3). */
  readonly quorum: number;
  readonly password: string;
  readonly downAfterMs: number;
  readonly failoverTimeoutMs: number;
  readonly dir: string;
  /** Address other sentinels and clients should use for this sentinel. */
  readonly announceIp?: string;
}

export function renderSentinelConf(s: SentinelSettings): string {
  const lines = [
    "# Rendered by probatio. Sentinel rewrites this file at run time (it records the current master).",
    `bind ${s.bind}`,
    `port ${s.port}`,
    `dir ${s.dir}`,
    "sentinel resolve-hostnames yes",
    `sentinel monitor ${s.masterName} ${s.masterHost} ${s.masterPort} ${s.quorum}`,
    `sentinel auth-pass ${s.masterName} ${quote(s.password)}`,
    `sentinel down-after-milliseconds ${s.masterName} ${s.downAfterMs}`,
    `sentinel failover-timeout ${s.masterName} ${s.failoverTimeoutMs}`,
    `sentinel parallel-syncs ${s.masterName} 1`,
  ];
  if (s.announceIp) lines.push(`sentinel announce-ip ${s.announceIp}`);
  return lines.join("\n") + "\n";
}
