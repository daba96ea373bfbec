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
// plus prom-client's default process metrics (CPU, memory, event-loop lag) under `rnn_wasm_`.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { WorkerMemory } from "./protocol.js";

/** What the gauges read when /metrics is scraped. */
export interface MetricSources {
  queued(): number;
  inFlight(): number;
  sessions(): number;
  sessionBytes(): number;
  wasm(): WorkerMemory[];
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"route" | "status">;
  readonly duration: Histogram<"route">;
  readonly batchSize: Histogram;

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
    collectDefaultMetrics({ register: this.registry, prefix: "rnn_wasm_" });
  }

  /** Prometheus' text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
