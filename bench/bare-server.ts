import http from "node:http";

/**
 * The ceiling: a bare node:http server that reads each request body and answers 200 with a fixed
 * small AWS JSON body. Driven by the same load generator with the same signing cost as tagd, its
 * throughput is the most any Node HTTP service can do on this machine under this load.
 * Prints `listening <port>` once it accepts connections.
 */
const BODY = Buffer.from(JSON.stringify({ PaginationToken: "", TagKeys: ["env", "team"] }));

const server = http.createServer((req, res) => {
  req.on("data", () => {});
  req.on("end", () => {
    res.writeHead(200, {
      "content-type": "application/x-amz-json-1.1",
      "content-length": BODY.length,
    });
    res.end(BODY);
  });
});
server.keepAliveTimeout = 72_000;
server.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`listening ${address.port}\n`);
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
