import http from "node:http";

export interface Answer {
  status: number;
  body: string;
}

export interface SendOptions {
  agent: http.Agent;
  port: number;
  method?: string;
  path?: string;
  headers: Record<string, string>;
  body?: string;
  /** Read the body only when it is wanted: a large listing is drained unparsed otherwise. */
  keepBody?: boolean;
}

/** One request on a keep-alive agent; resolves after the whole response has arrived. */
export function send(options: SendOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = Buffer.byteLength(options.body);
    const req = http.request(
      {
        host: "127.0.0.1",
        port: options.port,
        method: options.method ?? "POST",
        path: options.path ?? "/",
        agent: options.agent,
        headers,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const keep = options.keepBody || status < 200 || status > 299;
        const chunks: Buffer[] = [];
        if (keep) res.on("data", (c: Buffer) => chunks.push(c));
        else res.resume();
        res.on("end", () => resolve({ status, body: keep ? Buffer.concat(chunks).toString("utf8") : "" }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The admin API: JSON in and out, bearer token. */
export async function admin(
  agent: http.Agent,
  port: number,
  token: string,
  method: string,
  path: string,
  body?: string,
): Promise<Answer> {
  return send({
    agent,
    port,
    method,
    path,
    headers: {
      host: `127.0.0.1:${port}`,
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body,
    keepBody: true,
  });
}

/** Waits until `GET path` answers 200, or throws after `timeoutMs`. */
export async function waitForHealth(port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const agent = new http.Agent({ keepAlive: false });
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if (!alive()) throw new Error("the process exited before it answered /health");
      try {
        const answer = await send({
          agent,
          port,
          method: "GET",
          path: "/health",
          headers: { host: `127.0.0.1:${port}` },
        });
        if (answer.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no 200 from /health on port ${port} within ${timeoutMs} ms`);
  } finally {
    agent.destroy();
  }
}
