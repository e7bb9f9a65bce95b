import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";
import { Sha256 } from "@aws-crypto/sha256-js";
import {
  GetResourcesCommand,
  GetTagKeysCommand,
  GetTagValuesCommand,
  type ResourceGroupsTaggingAPIClient,
  TagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { ACCOUNT_A, ADMIN_TOKEN, ec2Arn, KEY_A, startServer, type TestServer } from "../helpers.ts";

/**
 * A few hundred malformed requests, generated from a seeded PRNG so every run sends the same ones.
 * Most are correctly signed so that they get past authentication and reach decoding and validation.
 * Each must get a 4xx in the AWS JSON error format, change nothing, and leave the server serving.
 */

const PREFIX = "ResourceGroupsTaggingAPI_20170126";
const CT = "application/x-amz-json-1.1";
const OPS = ["TagResources", "UntagResources", "GetResources", "GetTagKeys", "GetTagValues"] as const;
type Op = (typeof OPS)[number];

const SEEDED = [ec2Arn("i-seed00000001"), ec2Arn("i-seed00000002"), ec2Arn("i-seed00000003")];
const SEED_TAGS = { env: "prod", team: "payments", cost: "42" };

let server: TestServer;
let host: string;
let port: number;
let client: ResourceGroupsTaggingAPIClient;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

before(async () => {
  server = await startServer();
  const url = new URL(server.url);
  host = url.host;
  port = Number(url.port);
  client = server.tagging();
  for (const [i, arn] of SEEDED.entries()) {
    const res = await client.send(
      new TagResourcesCommand({ ResourceARNList: [arn], Tags: { ...SEED_TAGS, [`k${i}`]: `v${i}` } }),
    );
    assert.deepEqual(res.FailedResourcesMap, {});
  }
});
after(async () => {
  agent.destroy();
  await server.stop(true);
});

// ---------------------------------------------------------------------------------------------
// Wire helpers

interface Wire {
  method?: string;
  path?: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  /** Send the body in chunks without a Content-Length. */
  chunked?: boolean;
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

function send(w: Wire): Promise<Res> {
  const headers = { ...w.headers };
  // Node frames a GET/DELETE/OPTIONS body only when told its length.
  if (w.body && !w.chunked && !Object.keys(headers).some((k) => k.toLowerCase() === "content-length")) {
    headers["content-length"] = String(w.body.length);
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      { host: "127.0.0.1", port, method: w.method ?? "POST", path: w.path ?? "/", headers, agent },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    // The server may answer (413) before it has read the whole body and then drop the connection.
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    if (w.chunked && w.body) {
      for (let i = 0; i < w.body.length; i += 64 * 1024) req.write(w.body.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(w.body);
    }
  });
}

interface SignOptions {
  key?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
  service?: string;
  date?: Date;
  /** Headers signed along with host, content-type and x-amz-target. */
  headers?: Record<string, string>;
  /** null: no Content-Type at all. */
  contentType?: string | null;
}

function toBuffer(body: string | Buffer | object): Buffer {
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
}

/** A SigV4-signed request, signed the way the SDK signs it. */
async function signed(op: string | undefined, body: string | Buffer | object, o: SignOptions = {}) {
  const bytes = toBuffer(body);
  const headers: Record<string, string> = { host, ...o.headers };
  if (o.contentType !== null) headers["content-type"] = o.contentType ?? CT;
  if (op !== undefined) headers["x-amz-target"] = op.includes(".") ? op : `${PREFIX}.${op}`;
  const signer = new SignatureV4({
    service: o.service ?? "tagging",
    region: o.region ?? "us-east-1",
    credentials: o.key ?? KEY_A,
    sha256: Sha256,
  });
  const request = new HttpRequest({
    method: "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    port,
    path: "/",
    headers,
    body: bytes,
  });
  const out = await signer.sign(request, { signingDate: o.date });
  return { headers: { ...out.headers } as Record<string, string>, body: bytes };
}

function unsigned(
  op: string | undefined,
  body: string | Buffer | object,
  extra: Record<string, string> = {},
) {
  const headers: Record<string, string> = { host, "content-type": CT, ...extra };
  if (op !== undefined) headers["x-amz-target"] = op.includes(".") ? op : `${PREFIX}.${op}`;
  return { headers, body: toBuffer(body) };
}

/** Lower-cased view of a header record, for tampering with signed requests. */
function without(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !names.includes(k.toLowerCase())));
}

function setHeader(headers: Record<string, string>, name: string, value: string): Record<string, string> {
  return { ...without(headers, name), [name]: value };
}

// ---------------------------------------------------------------------------------------------
// The generator

/** mulberry32: small, fast and deterministic. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick<T>(list: readonly T[]): T {
      return list[Math.floor(next() * list.length)] as T;
    },
    word(n: number): string {
      const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_";
      let s = "";
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(next() * alphabet.length)];
      return s;
    },
  };
}
type Rng = ReturnType<typeof prng>;

interface Case {
  name: string;
  build: () => Promise<Wire> | Wire;
  /** The `__type` the response must carry, when the case pins it. */
  code?: string;
  status?: number;
  /** What the message must mention: the member or the problem. */
  mentions?: RegExp;
}

const WRONG_FOR_STRING: unknown[] = [5, -1, 1.5, true, false, [], ["a"], {}, { a: "b" }];
const WRONG_FOR_LIST: unknown[] = ["x", 5, 0, true, {}, { 0: "a" }];
const WRONG_FOR_MAP: unknown[] = ["x", 5, true, [], [["k", "v"]]];
const WRONG_FOR_INT: unknown[] = ["10", 1.5, 1e20, -(2 ** 40), 2 ** 31, {}, [], true, 1e308];
const WRONG_FOR_BOOL: unknown[] = ["true", 1, 0, [], {}];
const WRONG_FOR_STRUCT: unknown[] = ["x", 5, [], true];
/** Values no JSON-to-string conversion survives: they must still come back as a type error. */
const NASTY: unknown[] = [{ toString: 1 }, { toString: 1, valueOf: 1 }, { toJSON: 1, toString: "x" }];

function newArn(r: Rng): string {
  return ec2Arn(`i-${r.word(12)}`);
}
function seeded(r: Rng): string {
  return r.pick(SEEDED);
}
/** JSON text of `"x"` inside `depth` arrays; too deep for JSON.stringify to write. */
function nested(depth: number): string {
  return `${"[".repeat(depth)}"x"${"]".repeat(depth)}`;
}

/** A body that breaks the type of one member of an action, with the member the message must name. */
type Template = (r: Rng) => { op: Op; body: object | string; member: string };

const wrongTypes: Template[] = [
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: r.pick(WRONG_FOR_LIST), Tags: { leak: "1" } },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r), r.pick(WRONG_FOR_STRING)], Tags: { leak: "1" } },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r), null], Tags: { leak: "1" } },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r)], Tags: r.pick(WRONG_FOR_MAP) },
    member: "tags",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r)], Tags: { leak: r.pick(WRONG_FOR_STRING) } },
    member: "tags",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r)], Tags: { ok: "1", leak: null } },
    member: "tags",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: [seeded(r)], TagKeys: r.pick(WRONG_FOR_LIST) },
    member: "tagKeys",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: [seeded(r)], TagKeys: ["env", r.pick(WRONG_FOR_STRING)] },
    member: "tagKeys",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: [seeded(r)], TagKeys: ["env", null] },
    member: "tagKeys",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: r.pick(WRONG_FOR_LIST), TagKeys: ["env"] },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "GetResources",
    body: { ResourcesPerPage: r.pick(WRONG_FOR_INT) },
    member: "resourcesPerPage",
  }),
  (r) => ({ op: "GetResources", body: { TagsPerPage: r.pick(WRONG_FOR_INT) }, member: "tagsPerPage" }),
  (r) => ({ op: "GetResources", body: { TagFilters: r.pick(WRONG_FOR_LIST) }, member: "tagFilters" }),
  (r) => ({ op: "GetResources", body: { TagFilters: [r.pick(WRONG_FOR_STRUCT)] }, member: "tagFilters" }),
  (r) => ({
    op: "GetResources",
    body: { TagFilters: [{ Key: r.pick(WRONG_FOR_STRING) }] },
    member: "tagFilters",
  }),
  (r) => ({
    op: "GetResources",
    body: { TagFilters: [{ Key: "env", Values: r.pick(WRONG_FOR_LIST) }] },
    member: "tagFilters",
  }),
  (r) => ({
    op: "GetResources",
    body: { TagFilters: [{ Key: "env", Values: ["prod", r.pick(WRONG_FOR_STRING)] }] },
    member: "tagFilters",
  }),
  (r) => ({
    op: "GetResources",
    body: { ResourceTypeFilters: r.pick([...WRONG_FOR_LIST, [5], [null]]) },
    member: "resourceTypeFilters",
  }),
  (r) => ({
    op: "GetResources",
    body: { IncludeComplianceDetails: r.pick(WRONG_FOR_BOOL) },
    member: "includeComplianceDetails",
  }),
  (r) => ({
    op: "GetResources",
    body: { ExcludeCompliantResources: r.pick(WRONG_FOR_BOOL) },
    member: "excludeCompliantResources",
  }),
  (r) => ({
    op: "GetResources",
    body: { PaginationToken: r.pick(WRONG_FOR_STRING) },
    member: "paginationToken",
  }),
  (r) => ({
    op: "GetResources",
    body: { ResourceARNList: r.pick(WRONG_FOR_LIST) },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "GetTagKeys",
    body: { PaginationToken: r.pick(WRONG_FOR_STRING) },
    member: "paginationToken",
  }),
  (r) => ({ op: "GetTagValues", body: { Key: r.pick(WRONG_FOR_STRING) }, member: "key" }),
  (r) => ({
    op: "GetTagValues",
    body: { Key: "env", PaginationToken: r.pick(WRONG_FOR_STRING) },
    member: "paginationToken",
  }),
  // A list that is both too long and holds values of the wrong type: describing the bad value for the
  // length message must not be what fails.
  (r) => ({
    op: "TagResources",
    body: {
      ResourceARNList: [...Array.from({ length: 21 }, () => newArn(r)), r.pick(NASTY)],
      Tags: { leak: "1" },
    },
    member: "",
  }),
  (r) => ({
    op: "UntagResources",
    body: {
      ResourceARNList: [seeded(r)],
      TagKeys: [...Array.from({ length: 51 }, (_, i) => `k${i}`), r.pick(NASTY)],
    },
    member: "",
  }),
  (r) => ({
    op: "GetResources",
    body: `{"ResourceARNList": [${manyArns(r, 101)
      .map((a) => JSON.stringify(a))
      .join(",")}, ${nested(2000 + r.int(100_000))}]}`,
    member: "",
  }),
];

const missingRequired: Template[] = [
  (r) => ({ op: "TagResources", body: { Tags: { leak: r.word(5) } }, member: "resourceARNList" }),
  (r) => ({ op: "TagResources", body: { ResourceARNList: [seeded(r)] }, member: "tags" }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: null, Tags: { leak: r.word(5) } },
    member: "resourceARNList",
  }),
  (r) => ({ op: "TagResources", body: { ResourceARNList: [seeded(r)], Tags: null }, member: "tags" }),
  () => ({ op: "TagResources", body: {}, member: "resourceARNList" }),
  (r) => ({ op: "UntagResources", body: { ResourceARNList: [seeded(r)] }, member: "tagKeys" }),
  () => ({ op: "UntagResources", body: { TagKeys: ["env"] }, member: "resourceARNList" }),
  () => ({ op: "UntagResources", body: {}, member: "tagKeys" }),
  () => ({ op: "GetTagValues", body: {}, member: "key" }),
  () => ({ op: "GetTagValues", body: { Key: null }, member: "key" }),
  () => ({ op: "GetTagValues", body: { PaginationToken: "" }, member: "key" }),
  () => ({ op: "GetTagValues", body: "", member: "key" }),
  () => ({ op: "TagResources", body: "", member: "resourceARNList" }),
  () => ({ op: "UntagResources", body: "", member: "resourceARNList" }),
];

const manyArns = (r: Rng, n: number) => Array.from({ length: n }, () => newArn(r));
const manyTags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`leak${i}`, "v"]));

const constraints: Template[] = [
  () => ({
    op: "TagResources",
    body: { ResourceARNList: [], Tags: { leak: "1" } },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: manyArns(r, 21), Tags: { leak: "1" } },
    member: "resourceARNList",
  }),
  () => ({
    op: "TagResources",
    body: { ResourceARNList: [""], Tags: { leak: "1" } },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [ec2Arn(`i-${"a".repeat(1000 + r.int(100))}`)], Tags: { leak: "1" } },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "TagResources",
    body: {
      ResourceARNList: [r.pick(["not-an-arn", "arn:aws", "arn:aws:ec2:::", "arn:nope:ec2:us-east-1:1:x/y"])],
      Tags: { leak: "1" },
    },
    member: "ARN",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r)], Tags: manyTags(51 + r.int(10)) },
    member: "tags",
  }),
  (r) => ({ op: "TagResources", body: { ResourceARNList: [seeded(r)], Tags: { "": "v" } }, member: "tags" }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r)], Tags: { [`k${"x".repeat(128 + r.int(5))}`]: "v" } },
    member: "tags",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r)], Tags: { leak: "v".repeat(257 + r.int(50)) } },
    member: "tags",
  }),
  (r) => ({
    op: "TagResources",
    body: { ResourceARNList: [seeded(r)], Tags: { [`aws:${r.word(4)}`]: "v" } },
    member: "aws:",
  }),
  (r) => ({
    op: "TagResources",
    body: {
      ResourceARNList: [`arn:aws-cn:ec2:cn-north-1:${ACCOUNT_A}:instance/i-${r.word(8)}`],
      Tags: { leak: "1" },
    },
    member: "partition",
  }),
  (r) => ({ op: "UntagResources", body: { ResourceARNList: [seeded(r)], TagKeys: [] }, member: "tagKeys" }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: [seeded(r)], TagKeys: Array.from({ length: 51 }, (_, i) => `k${i}`) },
    member: "tagKeys",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: [seeded(r)], TagKeys: ["env", ""] },
    member: "tagKeys",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: [seeded(r)], TagKeys: ["env", "k".repeat(129)] },
    member: "tagKeys",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: [seeded(r)], TagKeys: ["env", "aws:cloudformation:stack-name"] },
    member: "aws:",
  }),
  () => ({
    op: "UntagResources",
    body: { ResourceARNList: [], TagKeys: ["env"] },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "UntagResources",
    body: { ResourceARNList: manyArns(r, 21), TagKeys: ["env"] },
    member: "resourceARNList",
  }),
  (r) => ({
    op: "GetResources",
    body: { ResourcesPerPage: r.pick([0, -5, 101, 1000]) },
    member: "ResourcesPerPage",
  }),
  (r) => ({ op: "GetResources", body: { TagsPerPage: r.pick([0, 99, 501]) }, member: "TagsPerPage" }),
  () => ({
    op: "GetResources",
    body: { TagFilters: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}` })) },
    member: "tagFilters",
  }),
  () => ({ op: "GetResources", body: { TagFilters: [{ Key: "" }] }, member: "tagFilters" }),
  () => ({ op: "GetResources", body: { TagFilters: [{ Key: "k".repeat(129) }] }, member: "tagFilters" }),
  () => ({
    op: "GetResources",
    body: { TagFilters: [{ Key: "env", Values: ["v".repeat(257)] }] },
    member: "tagFilters",
  }),
  () => ({
    op: "GetResources",
    body: { TagFilters: [{ Key: "env", Values: Array.from({ length: 21 }, (_, i) => `v${i}`) }] },
    member: "TagFilter",
  }),
  () => ({ op: "GetResources", body: { TagFilters: [{ Key: "env" }, { Key: "env" }] }, member: "env" }),
  () => ({ op: "GetResources", body: { TagFilters: [{ Values: ["prod"] }] }, member: "Key" }),
  () => ({
    op: "GetResources",
    body: { ResourceTypeFilters: Array.from({ length: 101 }, () => "ec2:instance") },
    member: "resourceTypeFilters",
  }),
  (r) => ({
    op: "GetResources",
    body: { ResourceTypeFilters: [r.pick(["nosuchservice", ":instance", "ec2:", "Ec2"])] },
    member: "",
  }),
  () => ({ op: "GetResources", body: { ResourceARNList: [] }, member: "resourceARNList" }),
  (r) => ({ op: "GetResources", body: { ResourceARNList: manyArns(r, 101) }, member: "resourceARNList" }),
  (r) => ({
    op: "GetResources",
    body: { ResourceARNList: [seeded(r)], TagFilters: [{ Key: "env" }] },
    member: "ResourceARNList",
  }),
  () => ({
    op: "GetResources",
    body: { ExcludeCompliantResources: true },
    member: "ExcludeCompliantResources",
  }),
  (r) => ({
    op: "GetResources",
    body: { PaginationToken: "t".repeat(2049 + r.int(10)) },
    member: "paginationToken",
  }),
  (r) => ({
    op: r.pick(["GetResources", "GetTagKeys"] as const),
    body: { PaginationToken: r.pick(["garbage", "a.b", `${r.word(20)}.${r.word(43)}`, "."]) },
    member: "pagination token",
  }),
  (r) => ({
    op: "GetTagValues",
    body: { Key: "env", PaginationToken: `${r.word(30)}.${r.word(43)}` },
    member: "pagination token",
  }),
  () => ({ op: "GetTagValues", body: { Key: "" }, member: "key" }),
  (r) => ({ op: "GetTagValues", body: { Key: "k".repeat(129 + r.int(100)) }, member: "key" }),
];

/** A proper, non-empty prefix of a JSON object's text is never valid JSON. */
function truncated(r: Rng, body: object): string {
  const text = JSON.stringify(body);
  return text.slice(0, 1 + r.int(text.length - 1));
}

const BAD_JSON = [
  "{",
  "}",
  '{"Tags": {"leak": "1"}',
  '{"ResourceARNList": [}',
  "{'ResourceARNList': []}",
  '{"Key": "env",}',
  '{"Key": undefined}',
  '{"ResourcesPerPage": NaN}',
  '{"ResourcesPerPage": Infinity}',
  '{"Key": "env"} trailing',
  '{"Key": "env"}}',
  "/* comment */ {}",
  "\uFEFF{}",
  "not json at all",
  "<xml/>",
  "Action=TagResources&Version=2017-01-26",
  '{"Key": "\\x41"}',
  '{"Key": "\\ud800"',
  "\u0000",
];
const NOT_AN_OBJECT = ["[]", '[{"Key": "env"}]', "1", "-0", "3.14", '"string"', "true", "false", "null"];
/** Bytes that are not UTF-8; a lenient decoder would store U+FFFD in their place. */
const NOT_UTF8 = [
  Buffer.concat([Buffer.from('{"Key": "'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]),
  Buffer.concat([
    Buffer.from('{"Key": "env", "PaginationToken": "'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('"}'),
  ]),
  Buffer.from([0x7b, 0x80, 0x81, 0x7d]),
];

function validBody(op: Op, r: Rng): object {
  switch (op) {
    case "TagResources":
      return { ResourceARNList: [seeded(r), newArn(r)], Tags: { leak: r.word(6) } };
    case "UntagResources":
      return { ResourceARNList: [seeded(r)], TagKeys: ["env", "team"] };
    case "GetResources":
      return { TagFilters: [{ Key: "env", Values: ["prod"] }], ResourcesPerPage: 10 };
    case "GetTagKeys":
      return {};
    case "GetTagValues":
      return { Key: "env" };
  }
}

/** State-changing bodies that must not take effect when authentication fails. */
function dangerousBody(r: Rng): { op: Op; body: object } {
  return r.next() < 0.5
    ? { op: "TagResources", body: { ResourceARNList: [seeded(r), newArn(r)], Tags: { pwned: r.word(6) } } }
    : { op: "UntagResources", body: { ResourceARNList: [...SEEDED], TagKeys: ["env", "team", "cost"] } };
}

const UNKNOWN_TARGETS = [
  `${PREFIX}.DeleteEverything`,
  `${PREFIX}.tagresources`,
  `${PREFIX}.`,
  `${PREFIX}`,
  `${PREFIX}.constructor`,
  `${PREFIX}.__proto__`,
  `${PREFIX}.toString`,
  `${PREFIX}.hasOwnProperty`,
  `${PREFIX}.valueOf`,
  "ResourceGroupsTaggingAPI_20170127.TagResources",
  "TrentService_20141101.TagResource",
  "DynamoDB_20120810.ListTables",
  "TagResources",
  ".TagResources",
  "",
  " ",
  "a.b.c.d",
];

/** Header values Node will send: printable ASCII, tabs and Latin-1 bytes that are not UTF-8. */
const GARBAGE_HEADER_VALUES = [
  "\xff\xfe\xfd",
  "caf\xe9",
  "\x80\x81\x82",
  "a\tb",
  "=;,/\\\"'",
  "x".repeat(4000),
  "",
];

function cases(): Case[] {
  const r = prng(20170126);
  const out: Case[] = [];
  const add = (c: Case) => {
    out.push(c);
  };

  // Representative cases, each pinned to the code the AWS JSON protocol gives it.
  add({
    name: "bad JSON",
    build: () => signed("TagResources", '{"ResourceARNList": ['),
    code: "SerializationException",
    status: 400,
    mentions: /JSON/,
  });
  add({ name: "JSON array body", build: () => signed("GetTagKeys", "[]"), code: "SerializationException" });
  add({
    name: "string for a list",
    build: () => signed("TagResources", { ResourceARNList: SEEDED[0], Tags: { leak: "1" } }),
    code: "SerializationException",
    mentions: /resourceARNList/,
  });
  add({
    name: "float for an integer",
    build: () => signed("GetResources", { ResourcesPerPage: 1.5 }),
    code: "SerializationException",
    mentions: /resourcesPerPage/,
  });
  add({
    name: "huge integer",
    build: () => signed("GetResources", { ResourcesPerPage: 1e20 }),
    code: "SerializationException",
    mentions: /resourcesPerPage/,
  });
  add({
    name: "object for an integer",
    build: () => signed("GetResources", { TagsPerPage: { n: 100 } }),
    code: "SerializationException",
    mentions: /tagsPerPage/,
  });
  add({
    name: "number for a string",
    build: () => signed("GetTagValues", { Key: 5 }),
    code: "SerializationException",
    mentions: /key/,
  });
  add({
    name: "null inside a list",
    build: () => signed("UntagResources", { ResourceARNList: SEEDED, TagKeys: ["env", null] }),
    code: "SerializationException",
    mentions: /tagKeys/,
  });
  add({
    name: "missing required member",
    build: () => signed("TagResources", { ResourceARNList: SEEDED }),
    code: "InvalidParameterException",
    status: 400,
    mentions: /tags.*must not be null/,
  });
  add({
    name: "key too long",
    build: () => signed("GetTagValues", { Key: "k".repeat(129) }),
    code: "InvalidParameterException",
    mentions: /key.*less than or equal to 128/,
  });
  add({
    name: "too many ARNs",
    build: () => signed("TagResources", { ResourceARNList: manyArns(r, 21), Tags: { leak: "1" } }),
    code: "InvalidParameterException",
    mentions: /resourceARNList.*less than or equal to 20/,
  });
  add({
    name: "unknown operation",
    build: () => signed(`${PREFIX}.DeleteEverything`, {}),
    code: "UnknownOperationException",
    mentions: /DeleteEverything/,
  });
  add({
    name: "no X-Amz-Target",
    build: () => signed(undefined, {}),
    code: "UnknownOperationException",
    mentions: /X-Amz-Target/,
  });
  add({
    name: "unsigned",
    build: () => unsigned("TagResources", { ResourceARNList: SEEDED, Tags: { pwned: "1" } }),
    code: "MissingAuthenticationTokenException",
    mentions: /Authentication Token/,
  });
  add({
    name: "signed with the wrong secret",
    build: () =>
      signed(
        "TagResources",
        { ResourceARNList: SEEDED, Tags: { pwned: "1" } },
        { key: { ...KEY_A, secretAccessKey: "not-the-secret" } },
      ),
    code: "InvalidSignatureException",
    mentions: /signature/,
  });
  add({
    name: "garbage Authorization",
    build: async () => {
      const w = await signed("TagResources", { ResourceARNList: SEEDED, Tags: { pwned: "1" } });
      return { ...w, headers: setHeader(w.headers, "authorization", "garbage") };
    },
    code: "IncompleteSignatureException",
    mentions: /AWS4-HMAC-SHA256/,
  });
  add({
    name: "unknown access key",
    build: () =>
      signed(
        "TagResources",
        { ResourceARNList: SEEDED, Tags: { pwned: "1" } },
        { key: { accessKeyId: "AKIDNOBODY", secretAccessKey: "x" } },
      ),
    code: "UnrecognizedClientException",
    mentions: /security token/,
  });
  add({
    name: "an Alibaba access key on the AWS dialect",
    build: () =>
      signed(
        "TagResources",
        { ResourceARNList: SEEDED, Tags: { pwned: "1" } },
        { key: { accessKeyId: "LTAItest", secretAccessKey: "alibaba-secret" } },
      ),
    code: "UnrecognizedClientException",
  });
  add({
    name: "body over 1 MiB",
    build: () => unsigned("TagResources", Buffer.alloc(1024 * 1024 + 1, 0x20)),
    code: "RequestEntityTooLargeException",
    status: 413,
  });
  add({
    name: "signed body over 1 MiB",
    build: () =>
      signed("TagResources", { ResourceARNList: SEEDED, Tags: { pwned: "v".repeat(1024 * 1024) } }),
    code: "RequestEntityTooLargeException",
    status: 413,
  });
  add({
    name: "chunked body over 1 MiB",
    build: async () => ({
      ...(await signed("GetTagKeys", `{"PaginationToken": "${"p".repeat(2 * 1024 * 1024)}"}`)),
      chunked: true,
    }),
    code: "RequestEntityTooLargeException",
    status: 413,
  });
  add({
    name: "no Content-Type, with a body",
    build: async () => {
      const w = await signed("TagResources", { ResourceARNList: SEEDED, Tags: { pwned: "1" } });
      return { ...w, headers: without(w.headers, "content-type") };
    },
  });
  add({
    name: "no Content-Type, signed without it",
    build: () =>
      signed("TagResources", { ResourceARNList: SEEDED, Tags: { pwned: "1" } }, { contentType: null }),
  });
  add({ name: "GET /", build: () => ({ method: "GET", headers: { host } }) });
  add({
    name: "GET / with a target",
    build: () => ({ method: "GET", headers: { host, "x-amz-target": `${PREFIX}.GetTagKeys` } }),
  });

  for (const c of unsignedNoContentType()) add(c);

  // Every template once, then a few hundred random draws.
  const families: { name: string; templates: Template[]; code: string }[] = [
    { name: "wrong type", templates: wrongTypes, code: "SerializationException" },
    { name: "missing required", templates: missingRequired, code: "InvalidParameterException" },
    { name: "out of range", templates: constraints, code: "InvalidParameterException" },
  ];
  const fromTemplate = (family: (typeof families)[number], t: Template, i: number) => {
    const { op, body, member } = t(r);
    const escaped = member.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    add({
      name: `${family.name} #${i} ${op} ${JSON.stringify(body).slice(0, 120)}`,
      build: () => signed(op, body),
      code: family.code,
      mentions: member ? new RegExp(escaped) : undefined,
    });
  };
  for (const family of families) {
    for (const [i, t] of family.templates.entries()) fromTemplate(family, t, i);
  }

  const generators: (() => void)[] = [
    () => {
      const family = r.pick(families);
      const i = r.int(family.templates.length);
      fromTemplate(family, family.templates[i] as Template, i);
    },
    () => {
      const op = r.pick(OPS);
      const body = r.next() < 0.3 ? truncated(r, validBody(op, r)) : r.pick(BAD_JSON);
      add({
        name: `bad JSON ${op} ${JSON.stringify(body).slice(0, 80)}`,
        build: () => signed(op, body),
        code: "SerializationException",
      });
    },
    () => {
      const op = r.pick(OPS);
      const body = r.pick(NOT_AN_OBJECT);
      add({
        name: `non-object body ${op} ${body}`,
        build: () => signed(op, body),
        code: "SerializationException",
      });
    },
    () => {
      const op = r.pick(["GetTagValues", "TagResources"] as const);
      const body = r.pick(NOT_UTF8);
      add({
        name: `not UTF-8 ${op} ${body.toString("hex")}`,
        build: () => signed(op, body),
        code: "SerializationException",
      });
    },
    () => {
      const target = r.next() < 0.5 ? r.pick(UNKNOWN_TARGETS) : `${PREFIX}.${r.word(1 + r.int(30))}`;
      const body = r.next() < 0.5 ? validBody(r.pick(OPS), r) : "{";
      if (r.next() < 0.7) {
        add({
          name: `unknown target ${JSON.stringify(target)}`,
          build: () => signed(undefined, body, { headers: { "x-amz-target": target } }),
          code: "UnknownOperationException",
        });
      } else {
        // Retargeting a signed request breaks its signature, unless the service itself is unknown.
        add({
          name: `unknown target, retargeted ${JSON.stringify(target)}`,
          build: async () => {
            const w = await signed("GetTagKeys", body);
            return { ...w, headers: setHeader(w.headers, "x-amz-target", target) };
          },
        });
      }
    },
    () => {
      const { op, body } = dangerousBody(r);
      const variant = r.int(16);
      add({ name: `bad auth #${variant} ${op}`, ...authFailure(variant, op, body, r) });
    },
    () => {
      const { op, body } = dangerousBody(r);
      const variant = r.int(6);
      add({ name: `garbage header #${variant} ${op}`, ...garbageHeader(variant, op, body, r) });
    },
    () => {
      const method = r.pick(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"]);
      const path = r.pick(["/", "/foo", "/?Action=TagResources", "/admin", "//", "/%7E"]);
      add({
        name: `${method} ${path}`,
        build: async () => {
          const w = await signed("GetTagKeys", {});
          return { method, path, headers: w.headers, body: method === "GET" ? undefined : w.body };
        },
      });
    },
    () => {
      const path = r.pick(["/%", "/%zz", "/%E0%A4%A", "/foo%", "/?a=%"]);
      add({
        name: `bad URL ${path}`,
        build: async () => ({ ...(await signed("GetTagKeys", {})), path }),
      });
    },
  ];
  for (let i = 0; i < 240; i++) r.pick(generators)();
  // Every auth and header variant at least once.
  for (let v = 0; v < 16; v++) {
    const { op, body } = dangerousBody(r);
    add({ name: `bad auth #${v} ${op}`, ...authFailure(v, op, body, r) });
  }
  for (let v = 0; v < 6; v++) {
    const { op, body } = dangerousBody(r);
    add({ name: `garbage header #${v} ${op}`, ...garbageHeader(v, op, body, r) });
  }
  return out;
}

function unsignedNoContentType(): Case[] {
  return [
    {
      name: "no Content-Type, unsigned, with a body",
      build: () => ({
        headers: { host, "x-amz-target": `${PREFIX}.TagResources` },
        body: Buffer.from(JSON.stringify({ ResourceARNList: SEEDED, Tags: { pwned: "1" } })),
      }),
    },
  ];
}

function authFailure(variant: number, op: Op, body: object, r: Rng): Pick<Case, "build" | "code"> {
  const tamper = async (f: (h: Record<string, string>) => Record<string, string>) => {
    const w = await signed(op, body);
    return { ...w, headers: f(w.headers) };
  };
  const hourAgo = new Date(Date.now() - 60 * 60 * 1000);
  switch (variant) {
    case 0:
      return { build: () => unsigned(op, body), code: "MissingAuthenticationTokenException" };
    case 1:
      return {
        build: () => signed(op, body, { key: { ...KEY_A, secretAccessKey: r.word(20) } }),
        code: "InvalidSignatureException",
      };
    case 2:
      // The body changed after signing.
      return {
        build: async () => {
          const w = await signed(op, body);
          return { ...w, body: Buffer.from(JSON.stringify({ ...body, Tags: { pwned: "changed" } })) };
        },
        code: "InvalidSignatureException",
      };
    case 3:
      return {
        build: () =>
          tamper((h) =>
            setHeader(
              h,
              "authorization",
              r.pick(["garbage", "AWS4-HMAC-SHA256", "Bearer abc", "AWS4-HMAC-SHA256 Credential=x"]),
            ),
          ),
        code: "IncompleteSignatureException",
      };
    case 4:
      return {
        build: () =>
          tamper((h) =>
            setHeader(
              h,
              "authorization",
              (h.authorization as string).replace(
                /Credential=[^,]*/,
                "Credential=AKIDACCOUNTA/2020/us-east-1",
              ),
            ),
          ),
        code: "IncompleteSignatureException",
      };
    case 5:
      return {
        build: () =>
          signed(op, body, { key: { accessKeyId: `AKID${r.word(12).toUpperCase()}`, secretAccessKey: "x" } }),
        code: "UnrecognizedClientException",
      };
    case 6:
      return {
        build: () =>
          tamper((h) =>
            setHeader(
              h,
              "x-amz-date",
              r.pick(["yesterday", "20240101", "2024-01-01T00:00:00Z", "99999999T999999Z"]),
            ),
          ),
        code: "IncompleteSignatureException",
      };
    case 7:
      return { build: () => tamper((h) => without(h, "x-amz-date")), code: "IncompleteSignatureException" };
    case 8:
      return { build: () => signed(op, body, { date: hourAgo }), code: "InvalidSignatureException" };
    case 9:
      return {
        build: () => signed(op, body, { service: r.pick(["kms", "ec2", "s3"]) }),
        code: "InvalidSignatureException",
      };
    case 10:
      return {
        build: () => signed(op, body, { region: r.pick(["mars-1", "US-EAST-1", "x"]) }),
        code: "InvalidSignatureException",
      };
    case 11:
      return {
        build: () =>
          tamper((h) =>
            setHeader(
              h,
              "authorization",
              (h.authorization as string).replace(
                /Signature=\w+/,
                `Signature=${r.pick(["zz", "0".repeat(64), "g".repeat(64)])}`,
              ),
            ),
          ),
        code: "InvalidSignatureException",
      };
    case 12:
      // The target is signed: pointing a signed request at another operation breaks the signature.
      return {
        build: () =>
          tamper((h) =>
            setHeader(
              h,
              "x-amz-target",
              `${PREFIX}.${op === "TagResources" ? "UntagResources" : "TagResources"}`,
            ),
          ),
        code: "InvalidSignatureException",
      };
    case 13:
      return {
        build: () =>
          tamper((h) =>
            setHeader(
              h,
              "authorization",
              (h.authorization as string).replace(
                /SignedHeaders=[^,]*/,
                "SignedHeaders=content-type;x-amz-date",
              ),
            ),
          ),
        code: "InvalidSignatureException",
      };
    case 14:
      return {
        build: () =>
          tamper((h) =>
            setHeader(
              h,
              "authorization",
              `AWS4-HMAC-SHA256 Credential=\xff\xfe/20240101/us-east-1/tagging/aws4_request, SignedHeaders=host, Signature=${"a".repeat(64)}`,
            ),
          ),
      };
    default:
      return {
        build: async () => {
          const w = await signed(op, body);
          return {
            ...w,
            path: `/?X-Amz-Signature=${r.word(10)}`,
            headers: without(w.headers, "authorization"),
          };
        },
        code: "IncompleteSignatureException",
      };
  }
}

function garbageHeader(variant: number, op: Op, body: object, r: Rng): Pick<Case, "build" | "code"> {
  const value = r.pick(GARBAGE_HEADER_VALUES);
  switch (variant) {
    case 0:
      return { build: () => signed(op, body, { contentType: value || "text/plain" }) };
    case 1:
      return {
        build: () =>
          signed(op, body, {
            contentType: r.pick(["text/plain", "application/xml", "application/x-www-form-urlencoded"]),
          }),
        code: "UnknownOperationException",
      };
    case 2:
      return { build: () => signed(`${PREFIX}.${value}`, body), code: "UnknownOperationException" };
    case 3:
      return {
        build: async () => {
          const w = await signed(op, body);
          return { ...w, headers: setHeader(w.headers, "x-amz-date", value || "x") };
        },
        code: "IncompleteSignatureException",
      };
    case 4:
      return {
        build: async () => {
          const w = await signed(op, body);
          const junk = value || "\xff";
          return {
            ...w,
            headers: setHeader(w.headers, "authorization", `${w.headers.authorization}${junk}`),
          };
        },
      };
    default:
      return {
        build: async () => {
          const w = await signed(op, body);
          return { ...w, headers: setHeader(w.headers, "host", value || "x") };
        },
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

async function snapshot() {
  const resources: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new GetResourcesCommand({ PaginationToken: token, ResourcesPerPage: 100 }),
    );
    resources.push(...(page.ResourceTagMappingList ?? []));
    token = page.PaginationToken || undefined;
  } while (token);
  const keys = (await client.send(new GetTagKeysCommand({}))).TagKeys ?? [];
  const values: Record<string, string[]> = {};
  for (const key of keys)
    values[key] = (await client.send(new GetTagValuesCommand({ Key: key }))).TagValues ?? [];
  const inventory = await server.admin("GET", "/admin/v1/resources?limit=1000");
  assert.equal(inventory.status, 200);
  return { resources, keys, values, inventory: inventory.body.resources };
}

function checkAwsError(c: Case, res: Res) {
  const where = `${c.name}: ${res.status} ${res.text.slice(0, 300)}`;
  assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx — ${where}`);
  assert.equal(res.headers["content-type"], CT, where);
  let body: { __type?: unknown; message?: unknown };
  try {
    body = JSON.parse(res.text);
  } catch {
    assert.fail(`the error body is not JSON — ${where}`);
  }
  assert.equal(typeof body.__type, "string", where);
  assert.ok((body.__type as string).length > 0, where);
  assert.equal(typeof body.message, "string", where);
  assert.ok((body.message as string).trim().length > 0, where);
  assert.equal(res.headers["x-amzn-errortype"], body.__type, where);
  assert.ok(res.headers["x-amzn-requestid"], where);
  assert.equal(res.headers["x-amzn-requestid"], res.headers["x-request-id"], where);
  assert.doesNotMatch(body.message as string, /\n\s+at /, `a stack trace on the wire — ${where}`);
  if (c.code) assert.equal(body.__type, c.code, where);
  if (c.status) assert.equal(res.status, c.status, where);
  if (c.mentions) assert.match(body.message as string, c.mentions, where);
}

test("a few hundred malformed requests each get a clean AWS-format 4xx and change nothing", async () => {
  const before = await snapshot();
  assert.equal(before.resources.length, 3);
  assert.deepEqual(before.keys, ["cost", "env", "k0", "k1", "k2", "team"]);

  const all = cases();
  assert.ok(all.length >= 300, `only ${all.length} cases`);
  const failures: string[] = [];
  const seen = new Map<string, number>();
  const BATCH = 16;
  for (let i = 0; i < all.length; i += BATCH) {
    await Promise.all(
      all.slice(i, i + BATCH).map(async (c) => {
        try {
          const res = await send(await c.build());
          const code = String(res.headers["x-amzn-errortype"]);
          seen.set(code, (seen.get(code) ?? 0) + 1);
          checkAwsError(c, res);
        } catch (err) {
          failures.push(`${c.name}\n    ${(err as Error).message.split("\n").slice(0, 6).join("\n    ")}`);
        }
      }),
    );
  }
  assert.deepEqual(failures, [], `${failures.length} of ${all.length} cases failed:\n${failures.join("\n")}`);
  assert.deepEqual([...seen.keys()].sort(), [
    "IncompleteSignatureException",
    "InvalidParameterException",
    "InvalidSignatureException",
    "MissingAuthenticationTokenException",
    "RequestEntityTooLargeException",
    "SerializationException",
    "UnknownOperationException",
    "UnrecognizedClientException",
  ]);

  assert.deepEqual(await snapshot(), before);

  // Still serving, and a valid request goes through.
  const health = await fetch(`${server.url}/health`);
  assert.equal(health.status, 200);
  const tagged = await client.send(
    new TagResourcesCommand({ ResourceARNList: [SEEDED[0] as string], Tags: { after: "yes" } }),
  );
  assert.deepEqual(tagged.FailedResourcesMap, {});
  const keys = await client.send(new GetTagKeysCommand({}));
  assert.ok(keys.TagKeys?.includes("after"));
  const ok = await send(await signed("GetTagValues", { Key: "after" }));
  assert.equal(ok.status, 200);
  assert.deepEqual(JSON.parse(ok.text), { PaginationToken: "", TagValues: ["yes"] });
  const admin = await fetch(`${server.url}/admin/v1/resources?limit=1`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(admin.status, 200);
});

test("names of Object.prototype are neither services nor resource types", async () => {
  for (const filter of ["__proto__", "constructor", "toString"]) {
    const res = await send(await signed("GetResources", { ResourceTypeFilters: [filter] }));
    assert.equal(res.status, 400, `${filter}: ${res.text}`);
    assert.equal(JSON.parse(res.text).__type, "InvalidParameterException");
  }
  const arn = `arn:aws:constructor:us-east-1:${ACCOUNT_A}:thing/x`;
  const res = await send(await signed("TagResources", { ResourceARNList: [arn], Tags: { a: "b" } }));
  assert.equal(res.status, 200);
  assert.ok(JSON.parse(res.text).FailedResourcesMap[arn], res.text);
});
