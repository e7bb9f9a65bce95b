import http from "node:http";
import type { AddressInfo } from "node:net";
import type { TestServer } from "../helpers.ts";

/** A request exactly as an SDK sent it: what a replay or a tampering test sends again. */
export interface Captured {
  method: string;
  /** Path and query string, as sent. */
  url: string;
  /** Header names and values as sent, `host` included (the signature covers it). */
  headers: [string, string][];
  body: Buffer;
}

export interface WireAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the answer field by field.
  body: any;
}

/** Sends a request as given — the Host header too — to the server at `target`. */
export function send(target: string, req: Captured): Promise<WireAnswer> {
  const { hostname, port } = new URL(target);
  return new Promise((resolve, reject) => {
    const out = http.request(
      {
        hostname,
        port,
        method: req.method,
        path: req.url,
        headers: req.headers.flat() as unknown as http.OutgoingHttpHeaders,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    out.on("error", reject);
    out.end(req.body);
  });
}

/**
 * A proxy in front of a test server that records every request an SDK client sends through it and
 * forwards it unchanged (Host header included, so the signature still holds).
 */
export async function recordingProxy(server: TestServer) {
  const captured: Captured[] = [];
  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const headers: [string, string][] = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2)
        headers.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
      const request = {
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers,
        body: Buffer.concat(chunks),
      };
      captured.push(request);
      const answer = await send(server.url, request);
      res.writeHead(answer.status, { "content-type": String(answer.headers["content-type"] ?? "") });
      res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    captured,
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

/** A copy of `req` with one header's value replaced (or added). */
export function withHeader(req: Captured, name: string, value: string): Captured {
  const headers = req.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
  headers.push([name, value]);
  return { ...req, headers };
}

/** A fetch answer's JSON body. */
// biome-ignore lint/suspicious/noExplicitAny: tests read the answer field by field.
export async function json(res: Response): Promise<any> {
  return res.json();
}
