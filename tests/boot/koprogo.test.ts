/**
 * KoproGo phases 1 and 2 (one VPS running Docker Compose: Traefik, PostgreSQL, the backend), each booted from its exact user data,
 * as far as Docker goes here. Debian 12's Docker and Compose install and the Docker daemon runs; the Compose project's
 * images (traefik, postgres, the backend's) come from container registries, which this sandbox cannot reach and has no
 * stand-in for: `docker-compose up` stops at the first pull, and cloud-init records that failure (and only that one).
 * The phase 0 suite proves that `up` delivers a classic VPS's user data over SSH; here it is the machine's NoCloud seed.
 */
import { BootNetwork, BootMachineSpec } from "./harness";
import { bootPlan } from "./phases";
import { buildStandins } from "./standins";
import { COMPOSE_FILE, COMPOSE_PG_TLS_DIR, COMPOSE_PROJECT } from "../../components/config/compose";

describe.each([1, 2])("koprogo phase %i, booted from its user data, as far as Docker goes without a registry", (phase) => {
  const log = (line: string) => process.stderr.write(`[boot koprogo ${phase}] ${line}\n`);
  let net: BootNetwork;
  let machine: BootMachineSpec;
  let t0 = 0;

  beforeAll(async () => {
    t0 = Date.now();
    const plan = await bootPlan("koprogo", phase);
    // Docker enables IP forwarding itself on a VM; nspawn's /proc/sys is read-only, so the harness does it.
    machine = { ...plan.machines[0], ipForward: true };
    net = await BootNetwork.create(`koprogo${phase}`, plan.gateway, 24, [machine], buildStandins());
    await net.boot([machine]);
    const r = await net.cloudInit(machine.name);
    log(`${machine.name}: cloud-init ${r.status.split("\n")[0]} ${((Date.now() - t0) / 1000).toFixed(0)} s after the start`);
  }, 20 * 60_000);

  afterAll(async () => net?.destroy(), 5 * 60_000);

  test("Docker and Compose install from Debian, the daemon runs and is enabled, and the project is the rendered one", async () => {
    expect((await net.exec(machine.name, "systemctl is-active docker; systemctl is-enabled docker")).stdout.trim().split("\n")).toEqual([
      "active",
      "enabled",
    ]);
    expect((await net.exec(machine.name, "docker-compose version --short")).stdout.trim()).toBe("1.29.2");
    const services = await net.exec(machine.name, `docker-compose -p ${COMPOSE_PROJECT} -f ${COMPOSE_FILE} config --services`);
    expect(services.stdout.trim().split("\n").sort()).toEqual(["backend", "postgres", "traefik"]);
    // PostgreSQL's TLS key pair, made at first boot for a migration's subscription: the image's postgres user's, 0600.
    const key = await net.exec(
      machine.name,
      `stat -c '%u:%g %a' ${COMPOSE_PG_TLS_DIR}/server.key; openssl x509 -noout -subject -in ${COMPOSE_PG_TLS_DIR}/server.crt`,
    );
    expect(key.stdout.trim().split("\n")).toEqual(["999:999 600", "subject=CN = koprogo-postgres"]);
  });

  test("where it stops: the first image pull (no registry here), after Compose made the project's network and volumes; cloud-init records that failure and no other", async () => {
    const r = await net.cloudInit(machine.name);
    expect(r.status).toMatch(/status: error/);
    // One failure: the runcmd script, at its last command (the packages, the files and `systemctl enable --now docker` passed).
    expect(r.errors.filter((e) => !/Failed to run module scripts-user|Running module scripts-user/.test(e))).toEqual([
      "('scripts-user', RuntimeError('Runparts: 1 failures (runcmd) in 1 attempted commands'))",
    ]);
    const out = (await net.exec(machine.name, "sed -n '/Creating network/,$p' /var/log/cloud-init-output.log")).stdout.split("\n");
    expect(out.slice(0, 5)).toEqual([
      `Creating network "${COMPOSE_PROJECT}_default" with the default driver`,
      `Creating volume "${COMPOSE_PROJECT}_pgdata" with default driver`,
      `Creating volume "${COMPOSE_PROJECT}_letsencrypt" with default driver`,
      "Pulling traefik (traefik:v3.1)...",
      expect.stringMatching(/registry-1\.docker\.io/),
    ]);
    expect((await net.exec(machine.name, "docker network ls --format '{{.Name}}'")).stdout).toContain(`${COMPOSE_PROJECT}_default`);
  });
});
