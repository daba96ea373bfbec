// bench/serve/lean-client.ts: a closed-loop load generator on node:http that reads each answer's body as bytes
// and drops it: `connections` kept-alive connections, each sending its next request as soon as its previous answer
// has arrived, for a bounded time. It exists because autocannon 9 turns every answer's body into a string
// (`req.body += chunk` in its request queue), a UTF-8 decode that costs ~1.5 ms of CPU for a 128 KiB float32
// answer (0.1 ms for 128 KiB of ASCII: measured with a server that answers a fixed body), more than the LSTM takes to
// compute it. On a 2-CPU machine where the load generator shares the CPUs with the server, that decode caps what
// any server can be measured at; this client costs a tenth of it, so its cells show what the server itself does.
import { Agent, request, type OutgoingHttpHeaders } from "node:http";

export interface LeanRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

export interface LeanOptions {
  url: string;
  connections: number;
  durationS: number;
  request: LeanRequest;
  /** Seconds without an answer before a request counts as a timeout (and its connection is dropped). */
  timeoutS: number;
  /** Called for every answer: its status and its latency in ms. */
  onResponse(status: number, ms: number): void;
}

export interface LeanResult {
  /** Seconds from the first request to the last answer. */
  durationS: number;
  statusCounts: Record<string, number>;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** Runs the closed loop for `durationS` seconds; resolves once every connection's last request has settled. */
export async function leanLoad(o: LeanOptions): Promise<LeanResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const target = new URL(o.request.path, o.url);
  const headers = { ...o.request.headers, "content-length": String(o.request.body.length) };
  const statusCounts: Record<string, number> = {};
  let non2xx = 0, errors = 0, timeouts = 0;
  const t0 = performance.now(), end = t0 + o.durationS * 1000;

  const once = () => new Promise<void>((resolve) => {
    const sent = performance.now();
    let settled = false;
    const settle = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const req = request(target, { method: o.request.method, headers, agent, timeout: o.timeoutS * 1000 }, (res) => {
      res.on("data", () => {}); // the body's bytes, dropped unread
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
        if (status < 200 || status >= 300) non2xx++;
        o.onResponse(status, performance.now() - sent);
        settle();
      });
      res.on("error", () => {
        errors++;
        settle();
      });
    });
    req.on("timeout", () => {
      timeouts++;
      req.destroy();
      settle();
    });
    req.on("error", () => {
      if (!settled) errors++;
      settle();
    });
    req.end(o.request.body);
  });

  const loop = async () => {
    while (performance.now() < end) await once();
  };
  await Promise.all(Array.from({ length: o.connections }, loop));
  const durationS = (performance.now() - t0) / 1000;
  agent.destroy();
  return { durationS: Number(durationS.toFixed(2)), statusCounts, non2xx, errors, timeouts };
}
