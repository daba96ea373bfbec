// src/serving/session-store.ts: the recurrent state of streams kept between their requests (the state half of
// Triton's sequence batcher: the steps themselves are batched across sessions by a DynamicBatcher).
//   - a session is an id with its h [LD, P] (and c [LD, H] for an LSTM) and the steps it has taken; a new id
//     starts from zeros;
//   - one step of a session runs at a time, in the order they arrived: a second step waits for the first, so a
//     stream's chunks cannot overtake each other;
//   - a step that fails leaves the state as it was (a new session whose first step fails is not kept);
//   - an idle session is forgotten ttlMs after its last step: swept lazily when its id comes back, when a new
//     session meets a cap, and by an unref'd timer (or an explicit sweep(now) with a test's clock);
//   - at maxSessions sessions, or when one more would hold more than maxBytes of state, a new session is REFUSED
//     ('overloaded', naming the cap), not made by evicting another: evicting would silently restart someone's stream
//     from zeros, so its next answers would be wrong with nothing to tell the client, while a refusal is a 429 the
//     new client can retry once TTLs free room (the same choice as Triton's sequence batcher, which has no eviction).
// Runtime-neutral: setInterval (unref'd where the runtime has unref) and Date.now.
import { RnnError } from "../errors.js";
import { describeValue, knownKeys, optionsObject } from "../options.js";
import type { StateShape } from "./served-model.js";

/** Limits and shapes of a {@link SessionStore}. */
export interface SessionStoreOptions {
  /** The model's state shapes, {@link ServedModel.stateShape}: h `[LD, P]`, c `[LD, H]` for an LSTM. */
  stateShape: StateShape;
  /** How long a session may stay idle (no step running or waiting) before it is forgotten, in ms (> 0; Infinity: never). */
  ttlMs: number;
  /** Most sessions kept at once (at least 1); one more is refused with 'overloaded'. */
  maxSessions: number;
  /** Most bytes of state (h and c, 4 bytes a float) all sessions may hold; default no cap beyond maxSessions. */
  maxBytes?: number;
  /** How often the timer sweeps expired sessions, in ms; default min(ttlMs, 60 000); 0: no timer (call sweep()). */
  sweepIntervalMs?: number;
  /** The clock, in ms (default Date.now): a test passes its own to move time. */
  now?: () => number;
}

/** A session's state as a step sees it: copies, the step's to keep or transfer. */
export interface SessionState {
  /** `[LD, P]` flat: the h the session's last step ended with (zeros for a new session). */
  h: Float32Array;
  /** LSTM only, `[LD, H]` flat. */
  c?: Float32Array;
  /** Steps the session has taken before this one. */
  steps: number;
}

/** What a step returns: the session's new state and what the caller wants back. */
export interface SessionUpdate<R> {
  /** The new h, `[LD, P]` flat (copied into the store). */
  h: Float32Array;
  /** LSTM only: the new c, `[LD, H]` flat (copied into the store). */
  c?: Float32Array;
  /** Steps this call took (added to the session's count). */
  steps: number;
  /** Returned by {@link SessionStore.step}. */
  result: R;
}

interface Session {
  h: Float32Array;
  c?: Float32Array;
  steps: number;
  /** steps running or waiting: a busy session never expires */
  busy: number;
  /** when the last step ended (or the session began) */
  last: number;
  /** settles when every step so far has */
  tail: Promise<void>;
  /** no step has succeeded yet: a failure then forgets the session */
  fresh: boolean;
}

function positive(name: string, v: unknown, integer: boolean): number {
  const ok = typeof v === "number" && v > 0 && (integer ? Number.isSafeInteger(v) || v === Infinity : !Number.isNaN(v));
  if (!ok) throw new RnnError("unexpected", `${name} must be a ${integer ? "whole " : ""}number > 0, got ${describeValue(v)}`);
  return v as number;
}

/**
 * Per-session recurrent state for streams: each session's h (and c), advanced one step at a time and in order,
 * forgotten after `ttlMs` idle or on {@link SessionStore.delete}, within caps on sessions and bytes. See
 * {@link SessionStoreOptions}; new sessions beyond a cap are refused ('overloaded'), never made by evicting others.
 *
 * @example
 * ```ts
 * const sessions = new SessionStore({ stateShape: model.stateShape, ttlMs: 60_000, maxSessions: 10_000 });
 * const output = await sessions.step("client-7", async ({ h, c }) => {
 *   const r = await batcher.submit({ input, steps: 1, h0: h, c0: c }); // batched with other sessions' steps
 *   return { h: r.hN, c: r.cN, steps: 1, result: r.output };
 * });
 * sessions.delete("client-7");
 * ```
 */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly hFloats: number;
  private readonly cFloats: number;
  private readonly ttlMs: number;
  private readonly maxSessions: number;
  private readonly maxBytes: number;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private closed = false;

  /**
   * An empty store.
   *
   * @param options state shapes, TTL and caps; see {@link SessionStoreOptions}
   * @throws RnnError `unexpected` for a missing or invalid option
   */
  constructor(options: SessionStoreOptions) {
    const o = optionsObject("SessionStore options", options) as SessionStoreOptions;
    knownKeys("SessionStore", o, ["stateShape", "ttlMs", "maxSessions", "maxBytes", "sweepIntervalMs", "now"]);
    const shape = o.stateShape;
    const dims = (d: unknown) => Array.isArray(d) && d.length === 2 && d.every((n) => Number.isSafeInteger(n) && n > 0);
    if (!shape || !dims(shape.h) || (shape.c !== undefined && !dims(shape.c))) {
      throw new RnnError("unexpected", "SessionStore needs stateShape { h: [LD, P], c?: [LD, H] }, as ServedModel.stateShape gives it");
    }
    this.hFloats = shape.h[0] * shape.h[1];
    this.cFloats = shape.c ? shape.c[0] * shape.c[1] : 0;
    this.ttlMs = positive("ttlMs", o.ttlMs, false);
    this.maxSessions = positive("maxSessions", o.maxSessions, true);
    this.maxBytes = o.maxBytes === undefined ? Infinity : positive("maxBytes", o.maxBytes, false);
    if (o.now !== undefined && typeof o.now !== "function") throw new RnnError("unexpected", `now must be a function returning ms, got ${describeValue(o.now)}`);
    this.now = o.now ?? Date.now;
    const every = o.sweepIntervalMs ?? Math.min(this.ttlMs, 60_000);
    if (typeof every !== "number" || !(every >= 0)) throw new RnnError("unexpected", `sweepIntervalMs must be a number >= 0, got ${describeValue(every)}`);
    if (every > 0 && Number.isFinite(every)) {
      this.timer = setInterval(() => this.sweep(), every);
      (this.timer as { unref?: () => void }).unref?.(); // the store alone must not keep a Node process alive
    }
  }

  /** Sessions kept (busy or idle). */
  get size(): number {
    return this.sessions.size;
  }

  /** Bytes of state the sessions hold: 4 × (h and c floats) each. */
  get bytes(): number {
    return this.sessions.size * this.bytesPerSession;
  }

  /** Bytes of one session's state. */
  get bytesPerSession(): number {
    return 4 * (this.hFloats + this.cFloats);
  }

  /** Whether `id` is a session now (an expired idle one is not). */
  has(id: string): boolean {
    const s = this.sessions.get(id);
    return s !== undefined && !this.expired(s, this.now());
  }

  /** A copy of `id`'s state, or undefined for no session (or an expired one). */
  get(id: string): SessionState | undefined {
    const s = this.sessions.get(id);
    return s && !this.expired(s, this.now()) ? this.copyOf(s) : undefined;
  }

  /**
   * Advances session `id` (made from zeros when new): waits for the session's earlier steps, calls `advance` with
   * a copy of its state, and keeps the state `advance` returns. If `advance` throws or rejects, the state stays as
   * it was and the error is this call's.
   *
   * @param id the session's id (a string; its syntax is the caller's business)
   * @param advance runs the step: gets the current state, returns the new state, the steps taken and a result
   * @returns `advance`'s result
   * @throws (rejects) RnnError `overloaded` naming maxSessions or maxBytes when `id` is new and a cap is reached,
   *   `closed` after close(), `shape` when `advance` returns a state of the wrong size
   */
  step<R>(id: string, advance: (state: SessionState) => Promise<SessionUpdate<R>> | SessionUpdate<R>): Promise<R> {
    if (this.closed) return Promise.reject(new RnnError("closed", "this session store is closed"));
    if (typeof id !== "string") return Promise.reject(new RnnError("unexpected", `a session id must be a string, got ${describeValue(id)}`));
    const now = this.now();
    let s = this.sessions.get(id);
    if (s && this.expired(s, now)) {
      this.sessions.delete(id);
      s = undefined;
    }
    if (!s) {
      try {
        s = this.create(id, now);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const session = s;
    session.busy++;
    const run = session.tail.then(async () => {
      const update = await advance(this.copyOf(session));
      this.keep(session, update);
      return update.result;
    });
    session.tail = run.then(() => undefined, () => undefined);
    const done = () => {
      session.busy--;
      session.last = this.now();
      if (session.fresh && session.busy === 0 && this.sessions.get(id) === session) this.sessions.delete(id);
    };
    run.then(done, done);
    return run;
  }

  /**
   * Forgets session `id`. A step already running or waiting for it still runs, on the forgotten state; the next
   * step for `id` starts a new session from zeros.
   *
   * @returns whether there was such a session
   */
  delete(id: string): boolean {
    const s = this.sessions.get(id);
    const existed = s !== undefined && !this.expired(s, this.now());
    this.sessions.delete(id);
    return existed;
  }

  /**
   * Forgets every idle session whose last step ended `ttlMs` or more before `now`.
   *
   * @param now the time, in the clock's ms; default the clock's now
   * @returns how many sessions were forgotten
   */
  sweep(now: number = this.now()): number {
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (this.expired(s, now)) {
        this.sessions.delete(id);
        n++;
      }
    }
    return n;
  }

  /** Stops the sweep timer and refuses new steps ('closed'); resolves when the steps already taken have settled. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.sessions.values()].map((s) => s.tail));
  }

  private expired(s: Session, now: number): boolean {
    return s.busy === 0 && now - s.last >= this.ttlMs;
  }

  private create(id: string, now: number): Session {
    if (this.sessions.size >= this.maxSessions || (this.sessions.size + 1) * this.bytesPerSession > this.maxBytes) this.sweep(now);
    if (this.sessions.size >= this.maxSessions) {
      throw new RnnError("overloaded", `session '${id}' cannot start: ${this.sessions.size} sessions are kept, the cap (maxSessions ${this.maxSessions}); try again once sessions end or expire`);
    }
    if ((this.sessions.size + 1) * this.bytesPerSession > this.maxBytes) {
      throw new RnnError("overloaded", `session '${id}' cannot start: its ${this.bytesPerSession} bytes of state would take the sessions' ` +
        `${this.bytes} bytes beyond the cap (maxBytes ${this.maxBytes}); try again once sessions end or expire`);
    }
    const s: Session = {
      h: new Float32Array(this.hFloats),
      ...(this.cFloats ? { c: new Float32Array(this.cFloats) } : {}),
      steps: 0, busy: 0, last: now, tail: Promise.resolve(), fresh: true,
    };
    this.sessions.set(id, s);
    return s;
  }

  private copyOf(s: Session): SessionState {
    return { h: new Float32Array(s.h), ...(s.c ? { c: new Float32Array(s.c) } : {}), steps: s.steps };
  }

  /** Checks a step's new state and copies it in. */
  private keep(s: Session, update: SessionUpdate<unknown>): void {
    if (update === null || typeof update !== "object") throw new RnnError("dtype", `a session step must return { h, c?, steps, result }, got ${describeValue(update)}`);
    const sized = (name: string, v: unknown, n: number) => {
      if (!(v instanceof Float32Array) || v.length !== n) {
        throw new RnnError("shape", `a session step returned ${name} ${v instanceof Float32Array ? `of ${v.length} floats` : describeValue(v)}; the state needs a Float32Array of ${n}`);
      }
    };
    sized("h", update.h, this.hFloats);
    if (this.cFloats) sized("c", update.c, this.cFloats);
    if (!Number.isSafeInteger(update.steps) || update.steps < 0) throw new RnnError("shape", `a session step returned steps ${describeValue(update.steps)}; expected a whole number >= 0`);
    s.h = new Float32Array(update.h);
    if (this.cFloats) s.c = new Float32Array(update.c!);
    s.steps += update.steps;
    s.fresh = false;
  }
}
