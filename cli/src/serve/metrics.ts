// cli/src/serve/metrics.ts: what GET /metrics reports, in Prometheus' text format (prom-client), from a registry of
// the server's own (so two servers in one process, as in the tests, do not share counters):
//   rnn_wasm_requests_total{route,status}            answers sent, by route pattern and HTTP status
//   rnn_wasm_request_duration_seconds{route}         time from the request's arrival to its answer
//   rnn_wasm_batch_size                              requests per batched forward
//   rnn_wasm_queue_depth, rnn_wasm_batches_in_flight requests waiting (for a thread, or for their session's turn);
//                                                    batches running
//   rnn_wasm_sessions, rnn_wasm_session_bytes        sessions kept, and the bytes of their state
//   rnn_wasm_wasm_memory_bytes{thread}               each worker's wasm linear memory, as of its last batch
//   rnn_wasm_wasm_blocks_in_use{thread}              blocks the library holds in it (flat in steady state)
//   rnn_wasm_answer_slots_in_use                     answer slots lent to a batch or being written (answer-slots.ts)
//   rnn_wasm_answers_total{via}                      answers from a worker, by how they came: "slot", or "transfer"
//                                                    (no slot free, or larger than one: raise --answer-slots/-bytes)
// plus prom-client's default process metrics (CPU, memory, event-loop lag) under `rnn_wasm_`.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { AnswerSlots } from "./answer-slots.js";
import type { WorkerMemory } from "./protocol.js";

/** What the gauges read when /metrics is scraped. */
export interface MetricSources {
  queued(): number;
  inFlight(): number;
  sessions(): number;
  sessionBytes(): number;
  wasm(): WorkerMemory[];
  slots: AnswerSlots;
}

/** The children of the per-answer metrics for one route and status, made once (labels() costs an object a call). */
interface Answered {
  inc(): void;
  observe(seconds: number): void;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"route" | "status">;
  readonly duration: Histogram<"route">;
  readonly batchSize: Histogram;
  private readonly byRoute = new Map<string, Map<number, Answered>>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.requests = new Counter({ name: "rnn_wasm_requests_total", help: "HTTP answers sent, by route and status", labelNames: ["route", "status"], registers });
    this.duration = new Histogram({
      name: "rnn_wasm_request_duration_seconds", help: "Time from a request's arrival to its answer", labelNames: ["route"], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    this.batchSize = new Histogram({ name: "rnn_wasm_batch_size", help: "Requests per batched forward", registers, buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });
    const gauge = (name: string, help: string, read: () => number) => new Gauge({ name, help, registers, collect() { this.set(read()); } });
    gauge("rnn_wasm_queue_depth", "Requests waiting for a thread, or for their session's earlier steps", sources.queued);
    gauge("rnn_wasm_batches_in_flight", "Batched forwards running", sources.inFlight);
    gauge("rnn_wasm_sessions", "Sessions kept", sources.sessions);
    gauge("rnn_wasm_session_bytes", "Bytes of recurrent state kept for sessions", sources.sessionBytes);
    const perThread = (name: string, help: string, read: (m: WorkerMemory) => number) => new Gauge({
      name, help, labelNames: ["thread"], registers,
      collect() {
        this.reset();
        for (const m of sources.wasm()) this.set({ thread: String(m.threadId) }, read(m));
      },
    });
    perThread("rnn_wasm_wasm_memory_bytes", "Each worker thread's wasm linear memory, as of its last batch", (m) => m.memoryBytes);
    perThread("rnn_wasm_wasm_blocks_in_use", "Blocks of wasm memory the library holds in each worker thread, as of its last batch", (m) => m.blocksInUse);
    gauge("rnn_wasm_answer_slots_in_use", "Answer slots lent to a batch or being written to a client", () => sources.slots.inUse);
    new Counter({
      name: "rnn_wasm_answers_total", help: "Answers from the workers, by how they came back: in an answer slot, or transferred (no slot free, or larger than one)", labelNames: ["via"], registers,
      collect() {
        this.reset();
        this.inc({ via: "slot" }, sources.slots.written);
        this.inc({ via: "transfer" }, sources.slots.fallbacks);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: "rnn_wasm_" });
  }

  /** Counts one answer sent on `route` with `status`, which took `seconds` from the request's arrival. */
  answered(route: string, status: number, seconds: number): void {
    let statuses = this.byRoute.get(route);
    if (!statuses) this.byRoute.set(route, (statuses = new Map()));
    let children = statuses.get(status);
    if (!children) {
      const count = this.requests.labels(route, String(status)), time = this.duration.labels(route);
      statuses.set(status, (children = { inc: () => count.inc(), observe: (v) => time.observe(v) }));
    }
    children.inc();
    children.observe(seconds);
  }

  /** Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
