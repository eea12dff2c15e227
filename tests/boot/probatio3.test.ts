/**
 * ProbatioVault phase 3 (Public Cloud instances on 10.1.0.0/24): the HAProxy pair sharing the VRRP address 10.1.0.10,
 * three backends, PostgreSQL with a synchronous and an asynchronous standby, Redis with Sentinel, Alertmanager.
 *
 * The stack gets its entry's certificate by ACME from the test network's CA (Pebble), its name leading to the VRRP
 * address: every HTTPS request below verifies the certificate for the name against Pebble's root.
 *
 * One setting differs from the seed's defaults: HAProxy's maxconn. The seed's 30 000 needs 60 050 file descriptors and
 * this sandbox caps them at 20 000 (no CAP_SYS_RESOURCE to raise the cap; a real Debian machine allows 524 288), so the
 * stack sets `lbMaxConnections` to 9 000, as an operator of a smaller node would. Everything else is the rendered user data.
 */
import { describeBootedPhase, entryUrl, hostKeys, probeEntry, probeRowOn, TEST_DOMAIN } from "./bootedPhase";
import { probeGroupStandin, reachedBy } from "./securityGroupStandin";
import {
  clusterOf,
  createWriteTable,
  killWhileWriting,
  killWitness,
  leaderOf,
  rejoin,
  replicationOf,
  summarize,
  waitFor,
} from "./failover";
import { DEFAULT_PATRONI_TIMINGS } from "../../lib/defaults";
import { deliverFromNetwork } from "./delivered";
import { bootPlan } from "./phases";
import { BootNetwork } from "./harness";
import { MAIL_RELAY } from "./standins";

const VIP = "10.1.0.10";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The serial of the certificate HAProxy at `address` serves for the stack's name (hex), or what went wrong. */
async function servedSerial(net: BootNetwork, address: string): Promise<string> {
  const r = await net.probe(
    `openssl s_client -connect ${address}:443 -servername ${TEST_DOMAIN} </dev/null 2>/dev/null | openssl x509 -noout -serial`,
  );
  return r.stdout.trim().replace(/^serial=/, "") || `no certificate (${r.stderr.trim()})`;
}

/** The first certificate each HAProxy node served for the name, by node. */
const firstSerials = new Map<string, string>();

/** The machines that hold the VRRP address now (exactly one, unless VRRP is broken). */
async function vipHolders(net: BootNetwork, nodes: readonly string[]): Promise<string[]> {
  const holders: string[] = [];
  for (const n of nodes) {
    const r = await net.exec(n, "ip -4 -o addr show dev ens3");
    if (r.stdout.includes(` ${VIP}/`)) holders.push(n);
  }
  return holders;
}

describeBootedPhase(
  "probatio",
  3,
  // The operator's address (the test network's gateway) is the stack's SSH allow-list, as a user sets it.
  { buckets: ["prod-pg-backups"], settings: { lbMaxConnections: 9000, sshAllowList: ["10.1.0.1/32"] }, acme: { entry: VIP } },
  (booted) => {
    test("Patroni runs the first database machine as the leader with one synchronous and one asynchronous standby, both streaming from 10.1.0.30", async () => {
      const { net, plan } = booted();
      const { nodes } = clusterOf(plan.machines);
      expect(await leaderOf(net, nodes)).toBe("prod-database-1");
      const rows = await replicationOf(net, "prod-database-1");
      expect(rows.map((r) => r.split("|").slice(0, 2).join("|"))).toEqual([
        "prod-database-standby-1|streaming",
        "prod-database-standby-2|streaming",
      ]);
      expect(rows.map((r) => r.split("|")[2]).sort()).toEqual(["async", "sync"]);
      for (const standby of ["prod-database-standby-1", "prod-database-standby-2"]) {
        const r = await net.exec(standby, `sudo -u postgres psql -Atc "select status, sender_host from pg_stat_wal_receiver"`);
        expect(r.stdout.trim()).toBe("streaming|10.1.0.30");
      }
    });

    test("three Sentinels agree on the master 10.1.0.20 and its two replicas", async () => {
      const { net } = booted();
      for (const cache of ["prod-cache-1", "prod-cache-2", "prod-cache-3"]) {
        const r = await net.exec(
          cache,
          "redis-cli -p 26379 sentinel get-master-addr-by-name prod-redis | paste -sd: && redis-cli -p 26379 --no-raw sentinel master prod-redis | paste -sd' '",
        );
        const [master, info] = r.stdout.trim().split("\n");
        expect(master).toBe("10.1.0.20:6379");
        expect(info).toMatch(/"num-slaves" \d+\) "2"/);
        expect(info).toMatch(/"num-other-sentinels" \d+\) "2"/);
      }
    });

    test("the phase answers end to end through the VRRP address: a backend, pgBouncer, the primary, Redis found through Sentinel; the row on both standbys; every database connection from the network on TLS 1.3", async () => {
      const { net, acmeRoot } = booted();
      const probe = await probeEntry(net, VIP, acmeRoot);
      expect(probe).toMatchObject({
        version: "1",
        host: expect.stringMatching(/^prod-backend-[123]$/),
        redis: probe.host,
        redisMaster: "10.1.0.20:6379",
        redisVia: "sentinel",
      });
      expect(await probeRowOn(net, "prod-database-1", probe.row, probe.host, 1)).toBe(probe.host);
      // The synchronous standby has it at once (the commit waited for it); the asynchronous one follows shortly.
      const sync = (await replicationOf(net, "prod-database-1")).find((r) => r.endsWith("|sync"))!.split("|")[0];
      expect(await probeRowOn(net, sync, probe.row, probe.host, 1)).toBe(probe.host);
      for (const standby of ["prod-database-standby-1", "prod-database-standby-2"]) {
        expect(await probeRowOn(net, standby, probe.row, probe.host)).toBe(probe.host);
      }
      // Every connection the leader has from the network is TLS 1.3: pgBouncer's (the application's, pooled) and
      // both standbys' replication; each standby verified the leader against the stack's CA.
      const sessions = await net.exec(
        "prod-database-1",
        `sudo -u postgres psql -Atc "select a.usename, a.client_addr, s.ssl, s.version from pg_stat_activity a join pg_stat_ssl s using (pid) where a.client_addr is not null and a.client_addr <> '127.0.0.1' order by 1, 2"`,
      );
      const legs = sessions.stdout.trim().split("\n");
      expect(legs).toEqual(
        expect.arrayContaining(["app|10.1.0.35|t|TLSv1.3", "replicator|10.1.0.31|t|TLSv1.3", "replicator|10.1.0.32|t|TLSv1.3"]),
      );
      expect(legs.filter((l) => !l.endsWith("|t|TLSv1.3"))).toEqual([]);
      for (const standby of ["prod-database-standby-1", "prod-database-standby-2"]) {
        const conninfo = await net.exec(standby, `sudo -u postgres psql -Atc "select conninfo from pg_stat_wal_receiver"`);
        expect(conninfo.stdout).toMatch(/sslmode=verify-ca .*sslrootcert=\/etc\/probatio\/postgres-ca\.crt/);
      }
    }, 180_000);

    test(`a test alert reaches the SMTP relay (${MAIL_RELAY.name}:${MAIL_RELAY.port}, STARTTLS) through the Alertmanager route probatio renders`, async () => {
      const { net, plan } = booted();
      const monitoring = plan.machines.find((m) => m.role === "monitoring")!;
      const alert = JSON.stringify([
        {
          labels: { alertname: "ProbatioBootTestAlert", severity: "warning", instance: "boot-test" },
          annotations: { summary: "boot test" },
        },
      ]);
      const posted = await net.probe(
        `curl -fsS -m 10 -H 'Content-Type: application/json' -d '${alert}' http://${monitoring.address}:9093/api/v2/alerts`,
      );
      expect({ code: posted.code, err: posted.stderr }).toEqual({ code: 0, err: "" });
      // The route's group_wait is 30 s: the first notification of a new group leaves after it.
      let mail: string[] = [];
      for (let i = 0; i < 60 && mail.length === 0; i++) {
        mail = net.mail().filter((m) => m.includes("ProbatioBootTestAlert"));
        if (mail.length === 0) await sleep(2000);
      }
      expect(mail).toHaveLength(1);
      expect(mail[0]).toMatch(/^To: oncall@example\.com$/m);
      expect(mail[0]).toMatch(/^From: oncall@example\.com$/m);
    }, 180_000);

    test("configuration reaches a private machine through the jump host (backend-1) in place: first contact records it, a changed maxconn rewrites one file and reloads HAProxy only, a wrong host key is refused", async () => {
      const { net, plan, settings, operatorKey } = booted();
      // The phase's SSH gateway is backend-1 (its public address in the cloud; here its only one).
      const jump = { host: "10.1.0.100", user: "debian" };
      const lb = plan.machines.find((m) => m.name === "prod-lb-1")!;
      const target = { host: lb.address, user: "debian", jump };
      const first = await deliverFromNetwork(net, operatorKey!.path, { machine: lb.name, target, userData: lb.userData, pins: {} });
      expect({ plan: first.plan, summary: first.summary }).toEqual({
        plan: "record",
        summary: "recorded (cloud-init applied it at creation)",
      });
      expect((await hostKeys(net, lb.name)).split("\n")).toContain(first.hostKeys.target);
      expect((await hostKeys(net, "prod-backend-1")).split("\n")).toContain(first.hostKeys.jump);
      const pids = (unit: string) => net.exec(lb.name, `systemctl show -p MainPID --value ${unit}`).then((r) => r.stdout.trim());
      const keepalived = await pids("keepalived");
      // The operator lowers HAProxy's limit: the stack's user data changes, the machine gets a delta.
      const changed = (await bootPlan("probatio", 3, "prod", { ...settings, lbMaxConnections: 8000 })).machines.find(
        (m) => m.name === lb.name,
      )!;
      const second = await deliverFromNetwork(net, operatorKey!.path, {
        machine: lb.name,
        target,
        userData: changed.userData,
        pins: first.hostKeys,
      });
      expect({ plan: second.plan, summary: second.summary }).toEqual({
        plan: "delta",
        summary: "1 file(s) rewritten: /etc/haproxy/haproxy.cfg; reload haproxy",
      });
      expect((await net.exec(lb.name, "grep -E '^\\s*maxconn' /etc/haproxy/haproxy.cfg | head -1")).stdout.trim()).toBe("maxconn 8000");
      expect(await pids("keepalived")).toBe(keepalived);
      expect(await vipHolders(net, ["prod-lb-1", "prod-lb-2"])).toEqual(["prod-lb-1"]);
      const entry = entryUrl(VIP, booted().acmeRoot);
      expect((await net.probe(`curl -fsS -m 10 ${entry.args} ${entry.base}/health`)).stdout).toBe("ok 1\n");
      // A machine that answers with another host key (a rebuilt machine, or someone else) gets nothing.
      const wrongPin = deliverFromNetwork(net, operatorKey!.path, {
        machine: lb.name,
        target,
        userData: lb.userData,
        pins: { ...first.hostKeys, target: "SHA256:AAAAnotTheMachinesKeyAAAAAAAAAAAAAAAAAAAAAAA" },
      });
      await expect(wrongPin).rejects.toThrow(/host key/i);
      expect((await net.exec(lb.name, "grep -cE '^\\s*maxconn 8000' /etc/haproxy/haproxy.cfg")).stdout.trim()).toBe("1");
      // Back to the booted configuration, in place again.
      const back = await deliverFromNetwork(net, operatorKey!.path, {
        machine: lb.name,
        target,
        userData: lb.userData,
        pins: first.hostKeys,
      });
      expect(back.summary).toBe("1 file(s) rewritten: /etc/haproxy/haproxy.cfg; reload haproxy");
    }, 300_000);

    test("each node of the pair gets a certificate for the stack's name by ACME, by the rendered timer: both serve one that chains to the CA's root", async () => {
      const { net, plan, acmeRoot } = booted();
      const lbs = plan.machines.filter((m) => m.role === "lb");
      expect(lbs.map((m) => m.address)).toEqual(["10.1.0.11", "10.1.0.12"]);
      // The timer's first run comes 2 minutes after boot (or when cloud-init enables it, if later); no test starts it.
      // The challenge reaches the node holding the address, whose HAProxy asks each node's certbot in turn.
      const started = Date.now();
      for (const lb of lbs) {
        const url = entryUrl(lb.address, acmeRoot);
        let r = await net.probe(`curl -fsS -m 10 ${url.args} ${url.base}/health`);
        for (let i = 0; i < 90 && r.code !== 0; i++) {
          await sleep(2000);
          r = await net.probe(`curl -fsS -m 10 ${url.args} ${url.base}/health`);
        }
        const runs = await net.exec(
          lb.name,
          "journalctl -u probatio-certificate.service -o cat --no-pager | grep -c 'Successfully received certificate'",
        );
        // Issued at least once (the timer's calendar run may have come too, at the node's minute past 00:00 or 12:00).
        expect({ node: lb.name, code: r.code, stderr: r.stderr, body: r.stdout, issued: Number(runs.stdout.trim()) >= 1 }).toEqual({
          node: lb.name,
          code: 0,
          stderr: "",
          body: "ok 1\n",
          issued: true,
        });
        const issuer = await net.exec(lb.name, "openssl x509 -noout -issuer -ext subjectAltName -in /etc/haproxy/certs/site.pem");
        expect(issuer.stdout).toMatch(/issuer=CN ?= ?Pebble Intermediate CA/);
        expect(issuer.stdout).toContain(`DNS:${TEST_DOMAIN}`);
        firstSerials.set(lb.name, await servedSerial(net, lb.address));
      }
      process.stderr.write(
        `[boot probatio 3] ACME: both nodes served Pebble's certificate ${((Date.now() - started) / 1000).toFixed(0)} s after the test began\n`,
      );
    }, 300_000);

    test("the VRRP master crashes: the address moves to the other node, and requests through it succeed again within seconds, the backup's certificate valid for the name", async () => {
      const { net, plan, acmeRoot } = booted();
      const nodes = plan.machines.filter((m) => m.role === "lb").map((m) => m.name);
      // One master: the other node hears its adverts (unicast VRRP between 10.1.0.11 and 10.1.0.12) and stays backup.
      expect(await vipHolders(net, nodes)).toEqual(["prod-lb-1"]);
      // A client asking every 200 ms (2 s timeout each) while the master dies, verifying the certificate every time.
      const entry = entryUrl(VIP, acmeRoot);
      const client = net.probe(
        `end=$((SECONDS+40)); while [ $SECONDS -lt $end ]; do t=$(date +%s.%N); c=$(curl -s ${entry.args} -o /dev/null -m 2 -w '%{http_code}' ${entry.base}/health); echo "$t $c"; sleep 0.2; done`,
        60_000,
      );
      await sleep(5000);
      const killedAt = Date.now() / 1000;
      await net.stop("prod-lb-1", true);
      const log = (await client).stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .map(([t, c]) => ({ t: Number(t), ok: c === "200", code: c }));
      expect(await vipHolders(net, ["prod-lb-2"])).toEqual(["prod-lb-2"]);
      const before = log.filter((r) => r.t < killedAt);
      const after = log.filter((r) => r.t >= killedAt);
      // Every request before the crash answered (a failure shows when it was asked, relative to the crash).
      expect(before.filter((r) => !r.ok).map((r) => `${(r.t - killedAt).toFixed(1)} s: HTTP ${r.code}`)).toEqual([]);
      // Answered again: the first success after the last failure (a request already in flight may succeed at the crash).
      const lastFailure = [...after].reverse().find((r) => !r.ok);
      const firstOk = after.find((r) => r.ok && r.t > (lastFailure?.t ?? 0));
      const gap = (firstOk?.t ?? Infinity) - killedAt;
      const failed = after.filter((r) => !r.ok);
      // When the backup's keepalived took the address (its journal, same clock as ours).
      const tookOver = await net.exec(
        "prod-lb-2",
        "journalctl -u keepalived -o short-unix --no-pager | grep 'Entering MASTER STATE' | tail -1 | cut -d' ' -f1",
      );
      const takeover = Number(tookOver.stdout.trim()) - killedAt;
      process.stderr.write(
        `[boot probatio 3] VRRP: the backup took the address ${takeover.toFixed(1)} s after the master's crash; ${failed.length} of ${after.length} requests failed (at ${failed.map((r) => (r.t - killedAt).toFixed(1)).join(", ")} s); answered again ${gap.toFixed(1)} s after it\n`,
      );
      // Three missed adverts (advert_int 1 s) plus the backup's skew (0.6 s): about 3.6 s.
      expect(takeover).toBeGreaterThan(2);
      expect(takeover).toBeLessThan(6);
      // keepalived's backup takes over after 3 missed adverts (advert_int 1 s) plus its skew: a few seconds, never more.
      expect(gap).toBeLessThan(10);
      // Once the address has moved, every request succeeds (and there were many: the client ran 35 s past the crash).
      expect(after.filter((r) => r.t > firstOk!.t).length).toBeGreaterThan(50);
      expect(failed.every((r) => r.t - killedAt < 10)).toBe(true);
      // The crashed node comes back (the reboot probe that follows restarts it) and takes the address back.
      await net.restart("prod-lb-1");
      let holders: string[] = [];
      for (let i = 0; i < 30 && holders.join() !== "prod-lb-1"; i++) {
        holders = await vipHolders(net, nodes);
        if (holders.join() !== "prod-lb-1") await sleep(1000);
      }
      expect(holders).toEqual(["prod-lb-1"]);
    }, 240_000);

    test("PostgreSQL fails over by itself: the leader, then the synchronous standby, killed hard while the application writes through pgBouncer; no acknowledged write is lost, writes resume, the killed node rejoins as a standby", async () => {
      const { net, plan } = booted();
      const { nodes, pgbouncer } = clusterOf(plan.machines);
      await createWriteTable(net, pgbouncer.address);
      const log = (line: string) => process.stderr.write(`[boot probatio 3] failover: ${line}\n`);
      // The leader, then the synchronous standby: commits wait for it until the leader names the other one (its
      // walsender gives up after wal_sender_timeout), the standby-loss case that stalls writes.
      for (const round of [1, 2]) {
        const leader = await waitFor("a leader", () => leaderOf(net, nodes), 60_000);
        const sync = (await replicationOf(net, leader)).find((r) => r.endsWith("|streaming|sync"))?.split("|")[0];
        expect(sync).toBeDefined();
        const victim = round === 1 ? leader : sync!;
        const o = await killWhileWriting(net, nodes, pgbouncer.address, victim, round * 1_000_000);
        log(summarize(o));
        // Synchronous replication: not one acknowledged commit missing on the leader that took over.
        expect(o.lost).toEqual([]);
        expect(o.acknowledged.length).toBeGreaterThan(20);
        if (victim === leader) {
          expect(o.leaderAfter).not.toBe(victim);
          // ttl (20 s) after the leader's last renewal, then the promotion: well under the seed's 30 s.
          expect(o.resumedAfterS).toBeLessThan(30);
        } else {
          expect(o.leaderAfter).toBe(leader);
          expect(o.resumedAfterS).toBeLessThan(20);
        }
        await rejoin(
          net,
          nodes.find((n) => n.name === victim)!,
        );
        // Back to one synchronous and one asynchronous standby, both streaming.
        const rows = await waitFor(
          "two streaming standbys, one synchronous",
          async () => {
            const r = await replicationOf(net, o.leaderAfter);
            return r.filter((x) => x.includes("|streaming|")).length === 2 && r.some((x) => x.endsWith("|sync")) ? r : undefined;
          },
          60_000,
        );
        expect(rows.map((r) => r.split("|")[0]).sort()).toEqual(
          nodes
            .map((n) => n.name)
            .filter((n) => n !== o.leaderAfter)
            .sort(),
        );
      }
      // The store's third member: no failover without it, the leader writable; pgBouncer's machine back, writes through it.
      const witness = await killWitness(net, nodes, pgbouncer, DEFAULT_PATRONI_TIMINGS.ttl);
      log(`${pgbouncer.name} (etcd member, pgBouncer) killed: ${JSON.stringify(witness)}`);
      expect(witness).toEqual({ leader: witness.leader, leadersSeen: [witness.leader], direct: "ok", through: "ok" });
    }, 1_200_000);

    test("prod-lb-1, crashed and restarted by the VRRP test, renews its certificate by its timer's boot run (Pebble's last 20 days: inside certbot's window), and serves the new one", async () => {
      const { net, acmeRoot } = booted();
      const first = firstSerials.get("prod-lb-1");
      expect(first).toMatch(/^[0-9A-F]+$/);
      // The timer fires 2 minutes after the restart; the failover test ran in between (minutes). No test starts it.
      let serial = await servedSerial(net, "10.1.0.11");
      for (let i = 0; i < 90 && serial === first; i++) {
        await sleep(2000);
        serial = await servedSerial(net, "10.1.0.11");
      }
      expect(serial).toMatch(/^[0-9A-F]+$/);
      expect(serial).not.toBe(first);
      const url = entryUrl("10.1.0.11", acmeRoot);
      expect((await net.probe(`curl -fsS -m 10 ${url.args} ${url.base}/health`)).stdout).toBe("ok 1\n");
      const runs = await net.exec(
        "prod-lb-1",
        "journalctl -u probatio-certificate.service -o cat --no-pager | grep -c 'Successfully received certificate'",
      );
      expect(Number(runs.stdout.trim())).toBeGreaterThanOrEqual(2);
    }, 240_000);

    // Last of the phase's own tests: from here on, the test network stands in for the cloud's security groups.
    test("the security groups (a STAND-IN: nftables on the test network from the plan's groups), probed cell by cell from every machine, the operator and the internet: exactly the phase's flows get through, and the phase still answers through the VRRP address", async () => {
      const { net, plan, settings, acmeRoot } = booted();
      const table = await probeGroupStandin(net, "probatio", 3, plan, settings!);
      expect(table.mismatches).toEqual([]);
      // From the internet only the pair's 80 and 443; the operator also SSH, to each of the 14 machines.
      const entry = ["prod-lb-1:443", "prod-lb-1:80", "prod-lb-2:443", "prod-lb-2:80"];
      expect(table.reachedFrom.internet.sort()).toEqual(entry);
      expect(table.reachedFrom.operator.filter((c) => !c.endsWith(":22")).sort()).toEqual(entry);
      expect(table.reachedFrom.operator.filter((c) => c.endsWith(":22"))).toHaveLength(plan.machines.length);
      // The data tiers: PostgreSQL from pgBouncer's machine and the other members; pgBouncer and Redis from the backends.
      expect(reachedBy(table, "prod-database-1:5432")).toEqual(["prod-database-standby-1", "prod-database-standby-2", "prod-pgbouncer-1"]);
      const backends = ["prod-backend-1", "prod-backend-2", "prod-backend-3"];
      expect(reachedBy(table, "prod-pgbouncer-1:6432")).toEqual(backends);
      expect(reachedBy(table, "prod-cache-1:6379")).toEqual([...backends, "prod-cache-2", "prod-cache-3"]);
      // The phase still answers end to end through the fences, at the VRRP address.
      const probe = await probeEntry(net, VIP, acmeRoot);
      expect(probe).toMatchObject({ version: "1", host: expect.stringMatching(/^prod-backend-[123]$/) });
      expect(await probeRowOn(net, "prod-database-1", probe.row, probe.host)).toBe(probe.host);
    }, 600_000);
  },
);
