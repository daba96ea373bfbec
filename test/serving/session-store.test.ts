// test/serving/session-store.test.ts: SessionStore's rules with a clock the test moves (now + sweep(now)) and steps
// the test settles itself: state carried between steps, steps of one session in order, a failed step changing
// nothing, TTL, the caps on sessions and bytes (refusal, not eviction), delete and close.
import { describe, expect, it, vi } from "vitest";
import { RnnError } from "../../src/index.js";
import { SessionStore, type SessionState, type SessionStoreOptions, type SessionUpdate } from "../../src/serving/index.js";

const LSTM_SHAPE = { h: [2, 3] as [number, number], c: [2, 4] as [number, number] }; // 6 + 8 floats: 56 bytes

function store(o: Partial<SessionStoreOptions> = {}) {
  const clock = { t: 1000 };
  const s = new SessionStore({ stateShape: LSTM_SHAPE, ttlMs: 100, maxSessions: 3, sweepIntervalMs: 0, now: () => clock.t, ...o });
  return { s, clock };
}

/** A step that adds `x` to every value of h and c and takes one step; returns the state it saw. */
const add = (x: number) => (st: SessionState): SessionUpdate<SessionState> => ({
  h: st.h.map((v) => v + x), c: st.c!.map((v) => v + x), steps: 1, result: st,
});

async function rejection(p: Promise<unknown>): Promise<RnnError> {
  const e = await p.then(() => new Error("resolved"), (err: unknown) => err);
  expect(e).toBeInstanceOf(RnnError);
  return e as RnnError;
}

describe("SessionStore", () => {
  it("a new session starts from zeros; each step starts from the state the previous one kept", async () => {
    const { s } = store();
    const first = await s.step("a", add(1));
    expect([...first.h, ...first.c!]).toEqual(new Array(14).fill(0));
    expect(first.steps).toBe(0);
    const second = await s.step("a", add(2));
    expect([...second.h]).toEqual(new Array(6).fill(1));
    expect(second.steps).toBe(1);
    expect([...s.get("a")!.c!]).toEqual(new Array(8).fill(3));
    expect(s.get("a")!.steps).toBe(2);
    expect([...(await s.step("b", add(5))).h]).toEqual(new Array(6).fill(0)); // another session: its own state
    expect(s.size).toBe(2);
    expect(s.bytes).toBe(2 * 56);
  });

  it("the state a step gets is a copy: writing into it, or transferring it, leaves the session alone", async () => {
    const { s } = store();
    await s.step("a", add(1));
    await s.step("a", (st) => {
      st.h.fill(99);
      structuredClone(st.c!.buffer, { transfer: [st.c!.buffer] }); // detaches st.c
      throw new Error("after damage");
    }).catch(() => undefined);
    expect([...s.get("a")!.h]).toEqual(new Array(6).fill(1));
    expect([...s.get("a")!.c!]).toEqual(new Array(8).fill(1));
  });

  it("steps of one session run one at a time, in arrival order; other sessions do not wait", async () => {
    const { s } = store();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = s.step("a", async (st) => {
      log.push("a1 start");
      await gate;
      log.push("a1 end");
      return { h: st.h.map(() => 1), c: st.c, steps: 1, result: "a1" };
    });
    const next = s.step("a", (st) => {
      log.push(`a2 start from h=${st.h[0]}`);
      return { h: st.h, c: st.c, steps: 1, result: "a2" };
    });
    const other = await s.step("b", (st) => {
      log.push("b1");
      return { h: st.h, c: st.c, steps: 1, result: "b1" };
    });
    expect(other).toBe("b1");
    expect(log).toEqual(["a1 start", "b1"]);
    release();
    expect(await Promise.all([slow, next])).toEqual(["a1", "a2"]);
    expect(log).toEqual(["a1 start", "b1", "a1 end", "a2 start from h=1"]);
  });

  it("a step that fails leaves the state unchanged; a new session whose first step fails is not kept", async () => {
    const { s } = store();
    await s.step("a", add(1));
    await expect(s.step("a", () => { throw new Error("model failed"); })).rejects.toThrow("model failed");
    await expect(s.step("a", async () => { throw new Error("async failure"); })).rejects.toThrow("async failure");
    const bad = await rejection(s.step("a", (st) => ({ h: new Float32Array(5), c: st.c, steps: 1, result: 0 })));
    expect(bad.message).toContain("h of 5 floats");
    expect((await rejection(s.step("a", (st) => ({ h: st.h, steps: 1, result: 0 }))))).toMatchObject({ code: "shape" });
    expect((await rejection(s.step("a", (st) => ({ h: st.h, c: st.c, steps: -1, result: 0 }))))).toMatchObject({ code: "shape" });
    expect([...s.get("a")!.h]).toEqual(new Array(6).fill(1));
    expect(s.get("a")!.steps).toBe(1);
    await expect(s.step("new", () => { throw new Error("first step failed"); })).rejects.toThrow();
    expect(s.has("new")).toBe(false);
    expect(s.size).toBe(1);
  });

  it("an idle session expires ttlMs after its last step: swept lazily on its next step, by sweep(now), and never while busy", async () => {
    const { s, clock } = store({ ttlMs: 100 });
    await s.step("a", add(1));
    await s.step("b", add(1));
    clock.t += 99;
    expect(s.has("a")).toBe(true);
    await s.step("b", add(1)); // b's last step is now at t + 99
    clock.t += 1;
    expect(s.has("a")).toBe(false); // expired, not yet swept
    expect(s.size).toBe(2);
    const restarted = await s.step("a", add(1)); // lazily swept: a new session from zeros
    expect(restarted.steps).toBe(0);
    expect(restarted.h[0]).toBe(0);
    clock.t += 100;
    let release!: () => void;
    const busy = s.step("b", async (st) => {
      await new Promise<void>((r) => (release = r));
      return { h: st.h, c: st.c, steps: 1, result: 0 };
    });
    await Promise.resolve();
    expect(s.sweep(clock.t)).toBe(1); // a is swept; b is busy, so kept
    expect(s.has("b")).toBe(true);
    release();
    await busy;
    expect(s.sweep(clock.t + 99)).toBe(0);
    expect(s.sweep(clock.t + 100)).toBe(1);
    expect(s.size).toBe(0);
  });

  it("at maxSessions a new session is refused ('overloaded', naming the cap) after expired ones are swept; existing ones go on", async () => {
    const { s, clock } = store({ maxSessions: 2 });
    await s.step("a", add(1));
    await s.step("b", add(1));
    const e = await rejection(s.step("c", add(1)));
    expect(e.code).toBe("overloaded");
    expect(e.message).toContain("maxSessions 2");
    expect(s.size).toBe(2);
    await s.step("a", add(1)); // an existing session is never refused
    clock.t += 100; // both idle past the TTL: a new session makes room by sweeping them
    await s.step("c", add(1));
    expect(s.size).toBe(1);
  });

  it("a new session that would take the state beyond maxBytes is refused, naming the cap", async () => {
    const { s } = store({ maxBytes: 2 * 56 + 55, maxSessions: 10 });
    await s.step("a", add(1));
    await s.step("b", add(1));
    const e = await rejection(s.step("c", add(1)));
    expect(e.code).toBe("overloaded");
    expect(e.message).toContain("maxBytes 167");
    expect(s.bytes).toBe(112);
    expect(s.bytesPerSession).toBe(56);
  });

  it("delete() forgets a session (the next step starts from zeros) and says whether there was one", async () => {
    const { s } = store();
    await s.step("a", add(1));
    expect(s.delete("a")).toBe(true);
    expect(s.delete("a")).toBe(false);
    expect(s.get("a")).toBeUndefined();
    expect((await s.step("a", add(1))).steps).toBe(0);
  });

  it("close() refuses new steps ('closed') and waits for those already taken", async () => {
    const { s } = store();
    let release!: () => void;
    let finished = false;
    const running = s.step("a", async (st) => {
      await new Promise<void>((r) => (release = r));
      finished = true;
      return { h: st.h, c: st.c, steps: 1, result: 0 };
    });
    const closing = s.close();
    expect((await rejection(s.step("b", add(1)))).code).toBe("closed");
    await Promise.resolve();
    release();
    await closing;
    expect(finished).toBe(true);
    await running;
  });

  it("a GRU or RNN session has no c; options are checked", async () => {
    const s = new SessionStore({ stateShape: { h: [1, 2] }, ttlMs: 10, maxSessions: 1, sweepIntervalMs: 0 });
    const st = await s.step("x", (state) => ({ h: state.h, steps: 1, result: state }));
    expect(st.c).toBeUndefined();
    expect(s.bytesPerSession).toBe(8);
    for (const [bad, name] of [
      [{ ttlMs: 0 }, "ttlMs"], [{ maxSessions: 1.5 }, "maxSessions"], [{ maxBytes: -1 }, "maxBytes"],
      [{ stateShape: { h: [1] } }, "stateShape"], [{ sweepIntervalMs: -1 }, "sweepIntervalMs"], [{ ttl: 1 }, "ttl"],
    ] as const) {
      const base: SessionStoreOptions = { stateShape: { h: [1, 2] }, ttlMs: 10, maxSessions: 1 };
      expect(() => new SessionStore({ ...base, ...bad } as SessionStoreOptions)).toThrow(name);
    }
  });

  it("the sweep timer runs on its own (unref'd: it keeps no process alive) and stops at close()", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    try {
      const s = new SessionStore({ stateShape: { h: [1, 2] }, ttlMs: 50, maxSessions: 4 });
      await s.step("a", (st) => ({ h: st.h, steps: 1, result: 0 }));
      expect(s.size).toBe(1);
      vi.advanceTimersByTime(100); // the timer (every min(ttlMs, 60 s)) swept it
      expect(s.size).toBe(0);
      await s.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });
});
