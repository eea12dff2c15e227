/** HAProxy and keepalived configuration. Pure functions. */

export interface HaproxyBackend {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface HaproxySettings {
  /** Plain HTTP listener, e.g. { address: "*", port: 80 }. */
  readonly http: { readonly address: string; readonly port: number };
  /** HTTPS listener with the certificate bundle path; absent: HTTP only. */
  readonly https?: { readonly address: string; readonly port: number; readonly certPath: string };
  /** Redirect HTTP to HTTPS when https is set. Default true. */
  readonly redirectToHttps?: boolean;
  readonly backends: readonly HaproxyBackend[];
  /** Health check path on the backends. */
  readonly healthPath: string;
  /** Check interval (ms); a backend is out after `fall` failed checks and back after `rise` good ones. */
  readonly checkIntervalMs: number;
  readonly fall: number;
  readonly rise: number;
  /** Stats page bound to the private network only. */
  readonly stats: { readonly address: string; readonly port: number };
  readonly maxconn: number;
  /** Re-dispatch a failed request to another backend (retries). Default 3. */
  readonly retries?: number;
}

export function renderHaproxyCfg(s: HaproxySettings): string {
  const lines = [
    "# Rendered by probatio.",
    "global",
    `    maxconn ${s.maxconn}`,
    "    log stdout format raw local0",
    "",
    "defaults",
    "    mode http",
    "    log global",
    "    option httplog",
    "    option dontlognull",
    "    option redispatch",
    `    retries ${s.retries ?? 3}`,
    "    retry-on all-retryable-errors",
    "    timeout connect 2s",
    "    timeout client 30s",
    "    timeout server 30s",
    "    timeout http-request 10s",
    "",
    "frontend www",
    `    bind ${s.http.address}:${s.http.port}`,
  ];
  if (s.https) {
    lines.push(`    bind ${s.https.address}:${s.https.port} ssl crt ${s.https.certPath} alpn h2,http/1.1`);
    if (s.redirectToHttps ?? true) lines.push("    http-request redirect scheme https code 301 unless { ssl_fc }");
    lines.push("    http-request set-header X-Forwarded-Proto https if { ssl_fc }");
  }
  lines.push("    default_backend app", "", "backend app", "    balance roundrobin",
    `    option httpchk GET ${s.healthPath}`, "    http-check expect status 200",
    `    default-server inter ${s.checkIntervalMs} fastinter ${Math.max(100, Math.floor(s.checkIntervalMs / 4))} downinter ${s.checkIntervalMs} fall ${s.fall} rise ${s.rise}`);
  for (const b of s.backends) lines.push(`    server ${b.name} ${b.address}:${b.port} check`);
  lines.push("", "listen stats", `    bind ${s.stats.address}:${s.stats.port}`, "    stats enable", "    stats uri /stats", "    stats refresh 10s", "");
  return lines.join("\n");
}

export interface KeepalivedSettings {
  readonly instance: string;
  readonly interface: string;
  readonly state: "MASTER" | "BACKUP";
  readonly priority: number;
  readonly virtualRouterId: number;
  /** VRRP PASS authentication: at most 8 characters are used by keepalived. */
  readonly authPass: string;
  readonly virtualIp: string;
  readonly prefixLength: number;
  /** Unicast VRRP (clouds drop multicast): this node's address and its peers'. */
  readonly unicastSrcIp: string;
  readonly unicastPeers: readonly string[];
  /** Command whose success means "this node can serve" (e.g. HAProxy is alive). */
  readonly checkCommand: string;
  readonly checkIntervalSeconds: number;
}

export function renderKeepalivedConf(s: KeepalivedSettings): string {
  return [
    "# Rendered by probatio.",
    "global_defs {",
    "    enable_script_security",
    "    script_user root",
    "}",
    "",
    "vrrp_script chk_haproxy {",
    `    script "${s.checkCommand}"`,
    `    interval ${s.checkIntervalSeconds}`,
    "    fall 2",
    "    rise 2",
    "    weight -60",
    "}",
    "",
    `vrrp_instance ${s.instance} {`,
    `    state ${s.state}`,
    `    interface ${s.interface}`,
    `    virtual_router_id ${s.virtualRouterId}`,
    `    priority ${s.priority}`,
    "    advert_int 1",
    `    unicast_src_ip ${s.unicastSrcIp}`,
    "    unicast_peer {",
    ...s.unicastPeers.map((p) => `        ${p}`),
    "    }",
    "    authentication {",
    "        auth_type PASS",
    `        auth_pass ${s.authPass.slice(0, 8)}`,
    "    }",
    "    virtual_ipaddress {",
    `        ${s.virtualIp}/${s.prefixLength} dev ${s.interface}`,
    "    }",
    "    track_script {",
    "        chk_haproxy",
    "    }",
    "}",
    "",
  ].join("\n");
}
