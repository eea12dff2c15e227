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
  /** HAProxy's runtime API (admin level), which `probatio migrate` drives; bind it to loopback and reach it over SSH. */
  readonly runtimeApi?: { readonly address: string; readonly port: number };
  /**
   * A disabled server slot `next` (weight 0) in the backends, that `probatio migrate` points at the next phase's
   * entry point to move traffic in stages. Safe methods (GET, HEAD) are served by their own backend `app_reads`, so
   * reads can move before writes do. `tls`: the next phase terminates TLS itself (verified against the system CAs).
   */
  readonly migrationSlot?: { readonly tls?: { readonly sni?: string } };
  /**
   * ACME's HTTP-01 challenges (/.well-known/acme-challenge/ on port 80, never redirected) to certbot. A pair's nodes
   * each ask for their own certificate, and the challenge reaches whichever holds the VRRP address: `servers` are
   * every node's certbot (its private address), tried in turn until one answers (certbot listens only while it asks,
   * and answers 404 for another's token). Default: this node's, on loopback.
   */
  readonly acmeChallenge?: { readonly port: number; readonly servers?: readonly string[] };
}

/** The backends of a rendered configuration and the name of the migration slot, for the migration's runtime calls. */
export const HAPROXY_BACKENDS = { all: "app", reads: "app_reads", slot: "next" } as const;
/** Weight of every server in the rendered configuration: room for the migration to set precise shares (max 256). */
export const SERVER_WEIGHT = 100;

export function renderHaproxyCfg(s: HaproxySettings): string {
  const lines = [
    "# Rendered by probatio.",
    "global",
    `    maxconn ${s.maxconn}`,
    "    log stdout format raw local0",
    ...(s.runtimeApi ? [`    stats socket ipv4@${s.runtimeApi.address}:${s.runtimeApi.port} level admin`] : []),
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
  if (s.acmeChallenge) lines.push("    acl acme_challenge path_beg /.well-known/acme-challenge/");
  if (s.https) {
    lines.push(`    bind ${s.https.address}:${s.https.port} ssl crt ${s.https.certPath} alpn h2,http/1.1`);
    if (s.redirectToHttps ?? true)
      lines.push(`    http-request redirect scheme https code 301 unless { ssl_fc }${s.acmeChallenge ? " || acme_challenge" : ""}`);
    lines.push("    http-request set-header X-Forwarded-Proto https if { ssl_fc }");
  }
  const check = `    default-server inter ${s.checkIntervalMs} fastinter ${Math.max(100, Math.floor(s.checkIntervalMs / 4))} downinter ${s.checkIntervalMs} fall ${s.fall} rise ${s.rise}`;
  const backend = (name: string) => {
    lines.push(
      "",
      `backend ${name}`,
      "    balance roundrobin",
      `    option httpchk GET ${s.healthPath}`,
      "    http-check expect status 200",
      check,
    );
    for (const b of s.backends) lines.push(`    server ${b.name} ${b.address}:${b.port} weight ${SERVER_WEIGHT} check`);
    if (s.migrationSlot) {
      const tls = s.migrationSlot.tls;
      const ssl = tls ? ` ssl verify required ca-file @system-ca sni req.hdr(host)${tls.sni ? ` check-sni ${tls.sni}` : ""}` : "";
      lines.push(`    server ${HAPROXY_BACKENDS.slot} 127.0.0.1:1 weight 0 disabled check${ssl}`);
    }
  };
  if (s.acmeChallenge) lines.push("    use_backend acme if acme_challenge");
  if (s.migrationSlot) lines.push(`    use_backend ${HAPROXY_BACKENDS.reads} if METH_GET`);
  lines.push(`    default_backend ${HAPROXY_BACKENDS.all}`);
  backend(HAPROXY_BACKENDS.all);
  if (s.migrationSlot) backend(HAPROXY_BACKENDS.reads);
  // certbot listens only while it asks for a certificate: no health check.
  if (s.acmeChallenge) {
    const servers = s.acmeChallenge.servers ?? ["127.0.0.1"];
    lines.push("", "backend acme");
    if (servers.length > 1)
      lines.push(
        "    balance roundrobin",
        `    retries ${servers.length - 1}`,
        "    option redispatch 1",
        "    retry-on conn-failure empty-response 404",
      );
    servers.forEach((a, i) => lines.push(`    server certbot${i + 1} ${a}:${s.acmeChallenge!.port}`));
  }
  lines.push(
    "",
    "listen stats",
    `    bind ${s.stats.address}:${s.stats.port}`,
    "    stats enable",
    "    stats uri /stats",
    "    stats refresh 10s",
    "",
  );
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
