import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { createServer, type Tagd } from "../../src/server.ts";
import { ACCOUNT_A, ADMIN_TOKEN, ec2Arn, KEY_A, testConfig } from "../helpers.ts";

const PREFIX = "ResourceGroupsTaggingAPI_20170126";
const CT = "application/x-amz-json-1.1";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Running {
  tagd: Tagd;
  port: number;
  url: string;
  dataDir: string;
  lines: string[];
}

/** createServer directly, with a logger writing into `lines`: startServer passes no logger. */
async function start(): Promise<Running> {
  const dataDir = mkdtempSync(join(tmpdir(), "tagd-server-test-"));
  const lines: string[] = [];
  const tagd = await createServer({
    config: testConfig(),
    dataDir,
    logger: { level: "info", stream: { write: (line: string) => void lines.push(line) } },
  });
  await tagd.app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = tagd.app.server.address() as AddressInfo;
  return { tagd, port, url: `http://127.0.0.1:${port}`, dataDir, lines };
}

async function signedRequest(port: number, op: string, body: object, key = KEY_A) {
  const signer = new SignatureV4({
    service: "tagging",
    region: "us-east-1",
    credentials: key,
    sha256: Sha256,
  });
  const bytes = Buffer.from(JSON.stringify(body));
  const request = new HttpRequest({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    port,
    path: "/",
    headers: { host: `127.0.0.1:${port}`, "content-type": CT, "x-amz-target": `${PREFIX}.${op}` },
    body: bytes,
  });
  const out = await signer.sign(request);
  return { headers: out.headers as Record<string, string>, body: bytes };
}

async function call(url: string, op: string, body: object, key = KEY_A) {
  const port = Number(new URL(url).port);
  const { headers, body: bytes } = await signedRequest(port, op, body, key);
  const { host: _host, ...rest } = headers;
  const res = await fetch(url, { method: "POST", headers: rest, body: bytes });
  return { res, text: await res.text(), authorization: headers.authorization as string };
}

function requestLines(lines: string[]): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "request");
}

/** The log line is written when the response has finished, which can be after the client has it. */
async function logLineFor(lines: string[], reqId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const found = requestLines(lines).filter((l) => l.reqId === reqId);
    if (found.length > 0) {
      assert.equal(found.length, 1, `one line per request, got ${JSON.stringify(found)}`);
      return found[0] as Record<string, unknown>;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`no request log line for ${reqId}`);
}

let server: Running;
before(async () => {
  server = await start();
});
after(async () => {
  await server.tagd.close();
  rmSync(server.dataDir, { recursive: true, force: true });
});

test("GET /health answers 200 with status ok", async () => {
  const res = await fetch(`${server.url}/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  const body = (await res.json()) as { status: string };
  assert.equal(body.status, "ok");
  assert.match(res.headers.get("x-request-id") ?? "", UUID);
});

test("every response carries x-request-id; AWS responses carry the same id as x-amzn-RequestId", async () => {
  const seen = new Set<string>();
  const check = (res: Response, label: string, aws: boolean) => {
    const id = res.headers.get("x-request-id");
    assert.match(id ?? "", UUID, `${label}: x-request-id`);
    assert.ok(!seen.has(id as string), `${label}: request ids are unique`);
    seen.add(id as string);
    if (aws) assert.equal(res.headers.get("x-amzn-requestid"), id, `${label}: x-amzn-RequestId`);
  };

  const ok = await call(server.url, "TagResources", {
    ResourceARNList: [ec2Arn("i-reqid")],
    Tags: { a: "b" },
  });
  assert.equal(ok.res.status, 200, ok.text);
  check(ok.res, "AWS success", true);

  const denied = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": CT, "x-amz-target": `${PREFIX}.GetTagKeys` },
    body: "{}",
  });
  assert.equal(denied.status, 400);
  check(denied, "AWS error", true);

  const invalid = await call(server.url, "GetTagValues", {});
  assert.equal(invalid.res.status, 400);
  check(invalid.res, "AWS validation error", true);

  const notFound = await fetch(`${server.url}/no/such/route`);
  assert.equal(notFound.status, 404);
  check(notFound, "404", true);

  const badUrl = await fetch(`${server.url}/%zz`, { method: "POST" });
  assert.equal(badUrl.status, 400);
  check(badUrl, "undecodable URL", true);

  const tooLarge = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": CT, "x-amz-target": `${PREFIX}.GetTagKeys` },
    body: Buffer.alloc(1024 * 1024 + 1, 0x20),
  });
  assert.equal(tooLarge.status, 413);
  check(tooLarge, "413", true);

  const admin = await fetch(`${server.url}/admin/v1/resources`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(admin.status, 200);
  check(admin, "admin", false);

  const adminDenied = await fetch(`${server.url}/admin/v1/resources`);
  assert.equal(adminDenied.status, 401);
  check(adminDenied, "admin 401", false);

  const adminNotFound = await fetch(`${server.url}/admin/v1/nothing-here`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(adminNotFound.status, 404);
  check(adminNotFound, "admin 404", false);

  const health = await fetch(`${server.url}/health`);
  check(health, "health", false);
});

test("one structured log line per request, without credentials or signatures", async () => {
  const ok = await call(server.url, "TagResources", {
    ResourceARNList: [ec2Arn("i-logged")],
    Tags: { k: "v" },
  });
  assert.equal(ok.res.status, 200, ok.text);
  const line = await logLineFor(server.lines, ok.res.headers.get("x-request-id") as string);
  assert.equal(line.dialect, "aws-json");
  assert.equal(line.action, "tagging.TagResources");
  assert.equal(line.account, ACCOUNT_A);
  assert.equal(line.status, 200);
  assert.equal(typeof line.durationMs, "number");
  assert.ok((line.durationMs as number) >= 0);

  const badSig = await call(server.url, "GetTagKeys", {}, { ...KEY_A, secretAccessKey: "wrong-secret" });
  assert.equal(badSig.res.status, 400);
  const badLine = await logLineFor(server.lines, badSig.res.headers.get("x-request-id") as string);
  assert.equal(badLine.status, 400);
  assert.equal(badLine.dialect, "aws-json");
  assert.equal(badLine.action, "tagging.GetTagKeys");

  const admin = await fetch(`${server.url}/admin/v1/resources?limit=5`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(admin.status, 200);
  const adminLine = await logLineFor(server.lines, admin.headers.get("x-request-id") as string);
  assert.equal(adminLine.dialect, "admin");
  assert.equal(adminLine.status, 200);

  // A body that makes validation fail in an unexpected way is logged as a warning, still without secrets.
  const hostile = await call(server.url, "UntagResources", {
    ResourceARNList: [ec2Arn("i-logged")],
    TagKeys: [...Array.from({ length: 51 }, (_, i) => `k${i}`), { toString: 1 }],
  });
  assert.equal(hostile.res.status, 400, hostile.text);
  await logLineFor(server.lines, hostile.res.headers.get("x-request-id") as string);

  const everything = server.lines.join("\n");
  for (const request of [ok, badSig, hostile]) {
    const signature = /Signature=([0-9a-f]{64})/.exec(request.authorization)?.[1] as string;
    assert.ok(signature);
    assert.ok(!everything.includes(signature), "a signature reached the log");
    assert.ok(!everything.includes(request.authorization), "an Authorization header reached the log");
  }
  assert.ok(!everything.includes(KEY_A.secretAccessKey), "a secret reached the log");
  assert.ok(!everything.includes("wrong-secret"));
  assert.ok(!everything.includes(ADMIN_TOKEN), "the admin token reached the log");
  assert.doesNotMatch(everything, /authorization/i);

  // Exactly one line per request id, every one of them complete.
  const byId = new Map<string, number>();
  for (const l of requestLines(server.lines)) {
    byId.set(l.reqId as string, (byId.get(l.reqId as string) ?? 0) + 1);
    for (const field of ["reqId", "dialect", "status", "durationMs"]) {
      assert.ok(l[field] !== undefined, `${field} missing in ${JSON.stringify(l)}`);
    }
  }
  for (const [id, n] of byId) assert.equal(n, 1, `${n} lines for ${id}`);
});

test("close() lets in-flight requests finish, then closes the store", async () => {
  const s = await start();
  try {
    const N = 12;
    let received = 0;
    s.tagd.app.server.on("request", () => {
      received++;
    });
    const agent = new http.Agent({ keepAlive: true });
    const pending: {
      req: http.ClientRequest;
      rest: Buffer;
      done: Promise<{ status: number; text: string }>;
    }[] = [];
    for (let i = 0; i < N; i++) {
      const { headers, body } = await signedRequest(s.port, "TagResources", {
        ResourceARNList: [ec2Arn(`i-inflight${i}`)],
        Tags: { batch: "shutdown", n: String(i) },
      });
      const half = Math.floor(body.length / 2);
      let req!: http.ClientRequest;
      const done = new Promise<{ status: number; text: string }>((resolve, reject) => {
        req = http.request(
          {
            host: "127.0.0.1",
            port: s.port,
            method: "POST",
            path: "/",
            agent,
            headers: { ...headers, "content-length": String(body.length) },
          },
          (res) => {
            let text = "";
            res.on("data", (c: Buffer) => {
              text += c.toString();
            });
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on("error", reject);
      });
      // Half of the body now; the rest only once the server is closing.
      req.write(body.subarray(0, half));
      pending.push({ req, rest: body.subarray(half), done });
    }
    for (let i = 0; i < 200 && received < N; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(received, N, "every request reached the server before close()");

    const closed = s.tagd.close();
    let closedYet = false;
    void closed.then(() => {
      closedYet = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closedYet, false, "close() waits for the requests in flight");
    await assert.rejects(fetch(`${s.url}/health`), "no new connections while closing");

    const finishing = Date.now();
    for (const p of pending) p.req.end(p.rest);
    const results = await Promise.all(pending.map((p) => p.done));
    for (const r of results) {
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(JSON.parse(r.text), { FailedResourcesMap: {} });
    }
    await closed;
    // Keep-alive connections do not hold close() up once their responses are out.
    assert.ok(Date.now() - finishing < 2000, `close() took ${Date.now() - finishing} ms`);
    agent.destroy();
    await assert.rejects(s.tagd.store.ping(), "the store is closed after close()");

    const lines = requestLines(s.lines).filter((l) => l.action === "tagging.TagResources");
    assert.equal(lines.length, N);
    assert.ok(lines.every((l) => l.status === 200));
  } finally {
    rmSync(s.dataDir, { recursive: true, force: true });
  }
});

test("what the in-flight requests wrote is in the store after a restart", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tagd-server-test-"));
  try {
    const first = await createServer({ config: testConfig(), dataDir });
    await first.app.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(first.app.server.address() as AddressInfo).port}`;
    const writes = Array.from({ length: 8 }, (_, i) =>
      call(url, "TagResources", { ResourceARNList: [ec2Arn(`i-durable${i}`)], Tags: { durable: "yes" } }),
    );
    // Close as soon as the requests are on their way; the ones accepted must still be written.
    await new Promise((r) => setTimeout(r, 5));
    const [results] = await Promise.all([Promise.allSettled(writes), first.close()]);
    const accepted = results.filter(
      (r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof call>>> => r.status === "fulfilled",
    );
    for (const r of accepted) assert.ok([200, 503].includes(r.value.res.status), r.value.text);

    const second = await createServer({ config: testConfig(), dataDir });
    await second.app.listen({ host: "127.0.0.1", port: 0 });
    const url2 = `http://127.0.0.1:${(second.app.server.address() as AddressInfo).port}`;
    const got = await call(url2, "GetResources", { TagFilters: [{ Key: "durable" }] });
    const listed = new Set(
      (JSON.parse(got.text).ResourceTagMappingList as { ResourceARN: string }[]).map((m) => m.ResourceARN),
    );
    for (const [i, r] of results.entries()) {
      if (r.status === "fulfilled" && r.value.res.status === 200)
        assert.ok(listed.has(ec2Arn(`i-durable${i}`)));
    }
    await second.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("a request Node's HTTP parser refuses still gets an AWS-format error with a request id", async () => {
  const { connect } = await import("node:net");
  const raw = async (text: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1", () => socket.write(text));
      let out = "";
      socket.on("data", (d) => {
        out += d.toString();
      });
      socket.on("end", () => resolve(out));
      socket.on("error", reject);
    });
  for (const text of [
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc",
  ]) {
    const answer = await raw(text);
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /\r\nx-amzn-RequestId: [0-9a-f-]{36}\r\n/);
    assert.match(answer, /\r\nx-amzn-ErrorType: SerializationException\r\n/);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4));
    assert.equal(body.__type, "SerializationException");
    assert.ok(body.message.length > 0);
  }
  assert.equal((await fetch(`${server.url}/health`)).status, 200);
});
