// bench/serve/floor-server.ts: the control of the /healthz probe, a server whose event loop does nothing but answer
// GET /healthz. bench/serve/run.ts starts one per run and probe.ts probes it alongside the server under test, from
// the same process, in every probed cell: its p99 is what this machine's scheduling alone costs (the probe and a
// server waiting for a CPU that the load generator and the server under test also want), the floor under any
// server's /healthz p99 in that cell. It loads no model and does no work, so nothing of its own can raise the number.
//
//   node --import tsx bench/serve/floor-server.ts [--host 127.0.0.1] [--port 0]
//
//   GET /healthz  200 {"status":"ok"}; anything else 404 {"error": "..."}.
// Prints one line with http://HOST:PORT once it listens.
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
  },
});

const OK = Buffer.from(JSON.stringify({ status: "ok" }));
const NOT_FOUND = Buffer.from(JSON.stringify({ error: "not found" }));

const server = createServer((req, res) => {
  const found = req.method === "GET" && req.url?.split("?")[0] === "/healthz";
  const body = found ? OK : NOT_FOUND;
  res.writeHead(found ? 200 : 404, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
  req.resume(); // a body sent with any request is read and dropped, so the connection stays usable
});
server.listen(Number(args.port), args.host, () => {
  const a = server.address();
  if (a === null || typeof a === "string") throw new Error("no address");
  console.log(`floor server listening on http://${args.host}:${a.port}`);
});
const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections(); // the probe's kept-alive socket would otherwise hold close() open
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
