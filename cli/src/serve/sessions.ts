// cli/src/serve/sessions.ts: the sessions of POST /v1/sessions/:id/step, kept on the main thread: each id's state
// after its last step (h, and c for an LSTM; none before its first step: zeros) and its total steps. A session's
// steps run one at a time, in the order they arrived (a second request for a busy session waits its turn); a step
// that fails leaves the state as it was. Sessions unused for the TTL are forgotten; a new session beyond
// maxSessions, or beyond maxBytes of state, evicts the least recently used idle one (or is refused when every one
// is busy).
import { RnnError } from "rnn-wasm";
import type { State } from "./protocol.js";

/** 1 to 128 characters of A-Z a-z 0-9 _ . : - */
export const SESSION_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface SessionOptions {
  ttlMs: number;
  maxSessions: number;
  maxBytes: number;
  stateShape: { h: [number, number]; c?: [number, number] };
}

/** A session held for one step: its state before the step, and what to do after it. */
export interface Lease {
  state?: State;
  steps: number;
  /** Keeps the state after a step that succeeded. */
  commit(state: State, steps: number): void;
  /** Lets the session's next step run (call once, whether the step succeeded or not). */
  release(): void;
}

interface Entry {
  id: string;
  state?: State;
  steps: number;
  lastUsed: number;
  /** Held by a step, and the steps waiting for it, in order. */
  busy: boolean;
  waiting: (() => void)[];
}

export class SessionTable {
  /** Called for each session forgotten: 'ttl' (unused too long) or 'capacity' (evicted for a new one). */
  onEvict?: (reason: "ttl" | "capacity") => void;
  private readonly entries = new Map<string, Entry>(); // in order of last use, oldest first
  private readonly bytesPerSession: number;
  private readonly capacity: number;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(private readonly o: SessionOptions) {
    const floats = o.stateShape.h[0] * o.stateShape.h[1] + (o.stateShape.c ? o.stateShape.c[0] * o.stateShape.c[1] : 0);
    this.bytesPerSession = 4 * floats;
    this.capacity = Math.max(1, Math.min(o.maxSessions, Math.floor(o.maxBytes / this.bytesPerSession)));
    this.sweeper = setInterval(() => this.sweep(), Math.min(1000, Math.max(10, o.ttlMs / 4)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes of state kept (sessions that have taken a step). */
  get bytes(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.state) n += this.bytesPerSession;
    return n;
  }

  /** Waits for the session's turn and holds it; a new id starts a session (evicting an idle one when full). */
  async acquire(id: string): Promise<Lease> {
    const entry = await this.hold(id);
    let released = false;
    return {
      state: entry.state,
      steps: entry.steps,
      commit: (state, steps) => {
        entry.state = state;
        entry.steps = steps;
      },
      release: () => {
        if (!released) this.release(entry);
        released = true;
      },
    };
  }

  /** Ends a session, after its step in flight if one is; false when there is none. */
  async delete(id: string): Promise<boolean> {
    const e = this.entries.get(id);
    if (!e || (e.steps === 0 && !e.busy)) return false;
    const entry = await this.hold(id);
    entry.state = undefined; // steps queued behind the delete start the id afresh
    entry.steps = 0;
    this.release(entry);
    return true;
  }

  private async hold(id: string): Promise<Entry> {
    let e = this.entries.get(id);
    if (!e) {
      this.makeRoom();
      e = { id, steps: 0, lastUsed: Date.now(), busy: false, waiting: [] };
      this.entries.set(id, e);
    }
    const entry = e;
    if (entry.busy) await new Promise<void>((resolve) => entry.waiting.push(resolve));
    entry.busy = true;
    this.touch(entry);
    return entry;
  }

  private release(entry: Entry): void {
    this.touch(entry);
    const next = entry.waiting.shift();
    if (next) return next(); // still busy: the next step holds it
    entry.busy = false;
    if (entry.steps === 0) this.entries.delete(entry.id); // no step succeeded (or it was deleted): nothing to keep
  }

  /** Stops the TTL sweep and forgets every session. */
  close(): void {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  private touch(e: Entry): void {
    e.lastUsed = Date.now();
    this.entries.delete(e.id);
    this.entries.set(e.id, e);
  }

  /** Evicts the least recently used idle sessions until one more fits, or throws 'overloaded'. */
  private makeRoom(): void {
    while (this.entries.size >= this.capacity) {
      const idle = [...this.entries.values()].find((x) => !x.busy);
      if (!idle) throw new RnnError("overloaded", `every one of the ${this.capacity} sessions this server keeps is busy (--max-sessions, --max-session-bytes)`);
      this.entries.delete(idle.id);
      this.onEvict?.("capacity");
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const e of this.entries.values()) {
      if (now - e.lastUsed < this.o.ttlMs) break; // in order of last use: the rest are younger
      if (e.busy) continue;
      this.entries.delete(e.id);
      this.onEvict?.("ttl");
    }
  }
}
