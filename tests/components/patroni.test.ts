import { parse } from "yaml";
import { renderLeaderProxy, renderPatroniConfig, renderEtcdDefaults } from "../../components/config/patroni";
import { DEFAULT_PATRONI_TIMINGS } from "../../lib/defaults";

const nodes = [
  { name: "prod-database-1", address: "10.1.0.30" },
  { name: "prod-database-standby-1", address: "10.1.0.31" },
];
const witness = { name: "prod-pgbouncer-1", address: "10.1.0.40" };

test("the timings obey Patroni's own rules (ttl >= 20, loop_wait >= 1, retry_timeout >= 3, loop_wait + 2 x retry_timeout <= ttl)", () => {
  const t = DEFAULT_PATRONI_TIMINGS;
  expect(t.ttl).toBeGreaterThanOrEqual(20);
  expect(t.loopWait).toBeGreaterThanOrEqual(1);
  expect(t.retryTimeout).toBeGreaterThanOrEqual(3);
  expect(t.loopWait + 2 * t.retryTimeout).toBeLessThanOrEqual(t.ttl);
});

test("a node's Patroni file: its REST API and PostgreSQL on its private address, the shared part with the timings, local socket", () => {
  const doc = parse(
    renderPatroniConfig({
      scope: "prod",
      name: "prod-database-1",
      address: "10.1.0.30",
      etcd: [...nodes, witness],
      version: 15,
      pgData: "/var/lib/postgresql/15/main",
      passwords: { superuser: "su", replication: "re", rewind: "rw", restApi: "api" },
      synchronousNodeCount: 0,
      maxConnections: 200,
      sharedBuffers: "2GB",
      archiveCommand: "pgbackrest --stanza=prod archive-push %p",
      pgHba: ["local all postgres peer"],
      postBootstrap: "/etc/patroni/post-bootstrap.sh",
    }),
  );
  expect(doc.restapi).toEqual({
    listen: "0.0.0.0:8008",
    connect_address: "10.1.0.30:8008",
    authentication: { username: "probatio", password: "api" },
  });
  expect(doc.bootstrap.dcs).toMatchObject({ ttl: 20, loop_wait: 2, retry_timeout: 5, synchronous_mode: false });
  expect(doc.postgresql).toMatchObject({
    connect_address: "10.1.0.30:5432",
    data_dir: "/var/lib/postgresql/15/main",
    bin_dir: "/usr/lib/postgresql/15/bin",
    parameters: { shared_buffers: "2GB" },
    pg_hba: ["local all postgres peer"],
  });
});

test("etcd: a static three-member store on the private network, each member's client port on its own address and loopback", () => {
  const text = renderEtcdDefaults(witness, [...nodes, witness], "prod");
  expect(text).toContain('ETCD_LISTEN_CLIENT_URLS="http://10.1.0.40:2379,http://127.0.0.1:2379"');
  expect(text).toContain('ETCD_LISTEN_PEER_URLS="http://10.1.0.40:2380"');
  expect(text).toContain('ETCD_INITIAL_CLUSTER_STATE="new"');
});

test("the leader proxy checks Patroni's /primary on 8008 every second and cuts sessions to a node marked down", () => {
  const cfg = renderLeaderProxy(nodes);
  expect(cfg).toContain("bind 127.0.0.1:5000");
  expect(cfg).toContain("default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions");
  expect(cfg).toContain("server prod-database-standby-1 10.1.0.31:5432 check port 8008");
});
