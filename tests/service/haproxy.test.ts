import { ChildProcess } from "child_process";
import { stopProcess, waitUntil } from "./daemons";
import { Backend, get, startBackend, startHaproxy } from "./httpFixtures";

jest.setTimeout(120_000);

describe("HAProxy from the rendered configuration in front of three local backends", () => {
  let backends: Backend[];
  let lb: { port: number; statsPort: number; proc: ChildProcess };
  beforeAll(async () => {
    backends = [await startBackend("backend1"), await startBackend("backend2"), await startBackend("backend3")];
    lb = await startHaproxy(backends);
  });
  afterAll(async () => {
    await stopProcess(lb?.proc);
    await Promise.all(backends.map((b) => b.stop().catch(() => undefined)));
  });

  test("requests are spread round-robin over the three backends", async () => {
    const bodies = [];
    for (let i = 0; i < 9; i++) bodies.push((await get(lb.port)).body);
    expect(bodies.filter((b) => b === "backend1")).toHaveLength(3);
    expect(bodies.filter((b) => b === "backend2")).toHaveLength(3);
    expect(bodies.filter((b) => b === "backend3")).toHaveLength(3);
  });

  test("stop one backend: it is taken out of rotation and every request keeps succeeding", async () => {
    const results: number[] = [];
    let i = 0;
    const loop = (async () => {
      for (; i < 400; i++)
        results.push(
          await get(lb.port).then(
            (r) => r.status,
            () => 0,
          ),
        );
    })();
    await waitUntil(() => i >= 50, 10_000, "traffic");
    await backends[1].stop();
    await loop;
    expect(results.filter((s) => s !== 200)).toEqual([]);
    await waitUntil(
      async () => /backend2,[^\n]*,DOWN/.test((await get(lb.statsPort, "/stats;csv")).body),
      10_000,
      "backend2 DOWN in the stats",
    );
    const after = [];
    for (let k = 0; k < 6; k++) after.push((await get(lb.port)).body);
    expect(after).not.toContain("backend2");
  });
});
