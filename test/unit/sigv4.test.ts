/**
 * SigV4 as the server verifies it, against requests signed by the official `@smithy/signature-v4`
 * (what the AWS SDK for JavaScript v3 uses). Each request is turned into the `SigV4Request` the
 * server builds from the socket: the path as sent (still percent-encoded, which is what the SDK
 * serialisers put in `HttpRequest.path`), the query string as an HTTP client serialises it, header
 * values as Node's HTTP parser hands them over (one character per byte: UTF-8 text arrives as
 * latin1-decoded bytes, leading and trailing blanks already stripped) and the body as bytes.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Sha256 } from "@aws-crypto/sha256-js";
import { HttpRequest } from "@smithy/protocol-http";
import { getCanonicalQuery, getSigningKey, SignatureV4 } from "@smithy/signature-v4";
import {
  canonicalHeaders,
  canonicalPath,
  canonicalQuery,
  checkSkew,
  deriveSigningKey,
  parseAuth,
  SigningKeyCache,
  type SigV4Auth,
  SigV4Error,
  type SigV4ErrorCode,
  type SigV4Request,
  verifySignature,
  verifySigV4,
} from "../../src/auth/sigv4.ts";

const ACCESS_KEY = "AKIDEXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST = "tagging.us-east-1.amazonaws.com";
const SIGNING_DATE = new Date("2024-05-06T07:08:09Z");
const NOW = SIGNING_DATE.getTime();
const MINUTE = 60_000;
const lookup = (id: string) => (id === ACCESS_KEY ? SECRET : undefined);

type Query = Record<string, string | string[]>;

/** What a client wants signed. `wire` replaces header values by what actually arrives. */
interface SignCase {
  n: number;
  name: string;
  method?: string;
  /** As sent on the wire: percent-encoded. */
  path?: string;
  query?: Query;
  headers?: Record<string, string>;
  wire?: Record<string, string[]>;
  body?: string;
}

/** RFC 3986, as smithy's `escapeUri` and `buildQueryString` encode: everything but unreserved. */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The query string an HTTP client sends, with the same encoding as `@smithy/querystring-builder`'s
 * `buildQueryString` but in insertion order (it sorts; a server must not rely on that).
 */
function serializeQuery(query: Query): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) parts.push(`${escapeUri(key)}=${escapeUri(v)}`);
  }
  return parts.join("&");
}

/** A header value sent as UTF-8 bytes, as Node's HTTP parser delivers it (latin1: a char per byte). */
function asNodeReceives(value: string): string {
  return Buffer.from(value, "utf8").toString("latin1");
}

function signer(secretAccessKey = SECRET, accessKeyId = ACCESS_KEY): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region: "us-east-1",
    service: "tagging",
    sha256: Sha256,
  });
}

function httpRequest(c: Omit<SignCase, "n" | "name">): HttpRequest {
  return new HttpRequest({
    method: c.method ?? "POST",
    protocol: "https:",
    hostname: HOST,
    path: c.path ?? "/",
    query: c.query ?? {},
    headers: { host: HOST, ...c.headers },
    body: c.body,
  });
}

function toWire(
  signed: { method: string; path: string; query?: Record<string, unknown>; headers: Record<string, string> },
  c: Omit<SignCase, "n" | "name">,
): SigV4Request {
  const headers = new Map<string, string[]>();
  for (const [name, value] of Object.entries(signed.headers)) {
    headers.set(name.toLowerCase(), [asNodeReceives(value)]);
  }
  for (const [name, values] of Object.entries(c.wire ?? {})) headers.set(name, values);
  return {
    method: signed.method,
    rawPath: signed.path,
    rawQuery: serializeQuery((signed.query ?? {}) as Query),
    headers,
    body: Buffer.from(c.body ?? "", "utf8"),
  };
}

async function signed(
  c: Omit<SignCase, "n" | "name">,
  opts: { secret?: string; accessKeyId?: string; signingDate?: Date } = {},
): Promise<SigV4Request> {
  const out = await signer(opts.secret, opts.accessKeyId).sign(httpRequest(c), {
    signingDate: opts.signingDate ?? SIGNING_DATE,
  });
  return toWire(out as HttpRequest, c);
}

async function presigned(
  c: Omit<SignCase, "n" | "name">,
  expiresIn: number,
  signingDate = SIGNING_DATE,
): Promise<SigV4Request> {
  const out = await signer().presign(httpRequest(c), { signingDate, expiresIn });
  return toWire(out, c);
}

function expectSigV4Error(fn: () => unknown, code: SigV4ErrorCode, message?: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SigV4Error, `expected a SigV4Error, got ${String(err)}`);
    assert.equal(err.code, code);
    if (typeof message === "string") assert.ok(err.message.includes(message), err.message);
    else if (message) assert.match(err.message, message);
    return true;
  });
}

const JSON_HEADERS = {
  "content-type": "application/x-amz-json-1.1",
  "x-amz-target": "ResourceGroupsTaggingAPI_20170126.GetResources",
};

const SIGNED_CASES: SignCase[] = [
  { n: 1, name: "plain POST / with a JSON body", headers: JSON_HEADERS, body: '{"ResourcesPerPage":10}' },
  { n: 2, name: "empty body", headers: JSON_HEADERS },
  { n: 3, name: "path with an encoded space", path: "/a%20b/" },
  { n: 4, name: "path with a dot-dot segment", path: "/foo/../bar" },
  { n: 5, name: "path with double slashes", path: "//double//slash" },
  { n: 6, name: "path with dot segments and a trailing slash", path: "/./dot/./segments/" },
  { n: 7, name: "path with an encoded euro sign", path: "/%E2%82%AC" },
  { n: 8, name: "path with a raw tilde and star", path: "/tilde~star*/x" },
  { n: 9, name: "path with an encoded tilde and star", path: "/%7Etilde%2Astar" },
  { n: 10, name: "path of only dot-dots", path: "/../.." },
  {
    n: 11,
    name: "GET with a repeated query key, values out of order",
    method: "GET",
    query: { Tag: ["b", "a", "c"], Action: "List" },
  },
  { n: 12, name: "query with empty values", method: "GET", query: { empty: "", a: "1", other: "" } },
  {
    n: 13,
    name: "query keys needing encoding",
    method: "GET",
    query: { "key with space": "v", "a&b=c": "x/y", ümlaut: "ß", "semi;colon": "?#[]" },
  },
  { n: 14, name: "query with + and =", method: "GET", query: { plus: "1+1=2", "a+b": "c=d", "=": "+" } },
  { n: 15, name: "query with unicode", method: "GET", query: { "emoji😀": "日本語", "€": "€ 1" } },
  { n: 16, name: "query with RFC 3986 reserved marks", method: "GET", query: { marks: "!'()*~-_." } },
  {
    n: 17,
    name: "query keys that sort differently encoded and decoded",
    method: "GET",
    query: { "a b": "1", a_b: "2", "a-b": "3", A: "4", a: "5" },
  },
  { n: 18, name: "query with a repeated key and empty repeats", method: "GET", query: { k: ["", "x", ""] } },
  {
    n: 19,
    name: "non-ASCII header value sent as UTF-8",
    headers: { "x-amz-meta-name": "café € 日本 à" },
  },
  {
    n: 20,
    name: "non-ASCII header value ending in a byte 0xA0 (à is C3 A0)",
    headers: { "x-amz-meta-name": "voilà" },
  },
  {
    n: 21,
    name: "latin1 header value sent one byte per char (Node's own HTTP client)",
    headers: { "x-amz-meta-name": "café" },
    wire: { "x-amz-meta-name": ["café"] },
  },
  {
    n: 22,
    name: "header with inner runs of spaces and tabs",
    headers: { "x-amz-meta-spaces": "a   b \t\t c" },
  },
  {
    n: 23,
    name: "header with leading and trailing spaces, stripped by the HTTP parser",
    headers: { "x-amz-meta-spaces": "   a  b   " },
    wire: { "x-amz-meta-spaces": ["a  b"] },
  },
  {
    n: 24,
    name: "header with leading and trailing spaces, kept by the front end",
    headers: { "x-amz-meta-spaces": " \t a  b \t " },
  },
  {
    n: 25,
    name: "repeated header: two raw values, canonically joined by a comma",
    headers: { "x-amz-meta-a": "one,two" },
    wire: { "x-amz-meta-a": ["one", "two"] },
  },
  {
    n: 26,
    name: "repeated header with inner spaces in each value",
    headers: { "x-amz-meta-a": "x y,z" },
    wire: { "x-amz-meta-a": ["x    y", "z"] },
  },
  {
    n: 27,
    name: "everything at once",
    method: "PUT",
    path: "/odd/%20path/../x",
    query: { list: ["2", "1"], "k y": "v+w" },
    headers: { ...JSON_HEADERS, "x-amz-meta-u": "ünïcödé  text" },
    body: '{"Tags":{"k":"ünïcödé"}}',
  },
];

describe("verifySigV4 accepts what @smithy/signature-v4 signs", () => {
  for (const c of SIGNED_CASES) {
    test(`${c.n}. ${c.name}`, async () => {
      const req = await signed(c);
      const auth = verifySigV4(req, lookup, new SigningKeyCache(), NOW);
      assert.equal(auth.accessKeyId, ACCESS_KEY);
      assert.equal(auth.region, "us-east-1");
      assert.equal(auth.service, "tagging");
      assert.equal(auth.date, "20240506");
      assert.equal(auth.amzDate, "20240506T070809Z");
      assert.equal(auth.presigned, false);
      assert.ok(auth.signedHeaders.includes("host"));
    });
  }
});

describe("verifySigV4 accepts what @smithy/signature-v4 presigns", () => {
  for (const c of SIGNED_CASES) {
    test(`${c.n}. ${c.name} (presigned, 300 s)`, async () => {
      const req = await presigned(c, 300);
      assert.equal(req.headers.get("authorization"), undefined);
      const auth = verifySigV4(req, lookup, new SigningKeyCache(), NOW + 299_000);
      assert.equal(auth.presigned, true);
      assert.equal(auth.expires, 300);
      assert.equal(auth.accessKeyId, ACCESS_KEY);
    });
  }
});

/** A request signed by smithy, then changed the way an attacker or a broken client would. */
interface RejectCase {
  n: number;
  name: string;
  make: () => Promise<SigV4Request>;
  nowMs?: number;
  code: SigV4ErrorCode;
  message?: string | RegExp;
}

const BASE: Omit<SignCase, "n" | "name"> = {
  headers: JSON_HEADERS,
  query: { q: "1" },
  body: '{"ResourcesPerPage":10}',
};

function withHeader(req: SigV4Request, name: string, value: string | undefined): SigV4Request {
  const headers = new Map(req.headers);
  if (value === undefined) headers.delete(name);
  else headers.set(name, [value]);
  return { ...req, headers };
}

function authorization(req: SigV4Request): string {
  const value = req.headers.get("authorization")?.[0];
  assert.ok(value);
  return value;
}

const MISMATCH = "The request signature we calculated does not match the signature you provided";

const REJECT_CASES: RejectCase[] = [
  {
    n: 1,
    name: "wrong secret",
    make: () => signed(BASE, { secret: "not-the-secret" }),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 2,
    name: "unknown access key",
    make: () => signed(BASE, { accessKeyId: "AKIDUNKNOWN" }),
    code: "UnrecognizedClientException",
    message: "The security token included in the request is invalid.",
  },
  {
    n: 3,
    name: "no Authorization header and no presigned query",
    make: async () => withHeader(await signed(BASE), "authorization", undefined),
    code: "MissingAuthenticationTokenException",
    message: "Missing Authentication Token",
  },
  {
    n: 4,
    name: "Authorization with another scheme",
    make: async () => withHeader(await signed(BASE), "authorization", "Bearer abc"),
    code: "IncompleteSignatureException",
    message: "requires 'AWS4-HMAC-SHA256' as the algorithm",
  },
  {
    n: 5,
    name: "Authorization with the algorithm only",
    make: async () => withHeader(await signed(BASE), "authorization", "AWS4-HMAC-SHA256"),
    code: "IncompleteSignatureException",
    message: "'Credential', 'SignedHeaders', 'Signature' parameters",
  },
  {
    n: 6,
    name: "Authorization with garbage after the algorithm",
    make: async () => withHeader(await signed(BASE), "authorization", "AWS4-HMAC-SHA256 garbage,,=x"),
    code: "IncompleteSignatureException",
  },
  {
    n: 7,
    name: "missing SignedHeaders",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(req, "authorization", authorization(req).replace(/SignedHeaders=[^,]*, /, ""));
    },
    code: "IncompleteSignatureException",
    message: "requires 'SignedHeaders' parameter",
  },
  {
    n: 8,
    name: "missing Signature",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(req, "authorization", authorization(req).replace(/, Signature=[0-9a-f]+/, ""));
    },
    code: "IncompleteSignatureException",
    message: "requires 'Signature' parameter",
  },
  {
    n: 9,
    name: "credential scope with four parts",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(
        req,
        "authorization",
        authorization(req).replace("/tagging/aws4_request", "/tagging"),
      );
    },
    code: "IncompleteSignatureException",
    message: "malformed scope",
  },
  {
    n: 10,
    name: "credential scope not ending in aws4_request",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(req, "authorization", authorization(req).replace("aws4_request", "aws4_reqest"));
    },
    code: "IncompleteSignatureException",
    message: "malformed scope",
  },
  {
    n: 11,
    name: "credential scope with an empty region",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(req, "authorization", authorization(req).replace("/us-east-1/", "//"));
    },
    code: "IncompleteSignatureException",
    message: "malformed scope",
  },
  {
    n: 12,
    name: "credential scope with a dashed date",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(req, "authorization", authorization(req).replace("/20240506/", "/2024-05-06/"));
    },
    code: "IncompleteSignatureException",
    message: "valid date: '2024-05-06'",
  },
  {
    n: 13,
    name: "neither X-Amz-Date nor Date",
    make: async () => withHeader(await signed(BASE), "x-amz-date", undefined),
    code: "IncompleteSignatureException",
    message: "either a 'X-Amz-Date' or a 'Date' header",
  },
  {
    n: 14,
    name: "X-Amz-Date not in basic ISO 8601",
    make: async () => withHeader(await signed(BASE), "x-amz-date", "2024-05-06T07:08:09Z"),
    code: "IncompleteSignatureException",
    message: "ISO 8601 basic format",
  },
  {
    n: 15,
    name: "X-Amz-Date 16 minutes old",
    make: () => signed(BASE),
    nowMs: NOW + 16 * MINUTE,
    code: "InvalidSignatureException",
    message: "Signature expired: 20240506T070809Z is now earlier than 20240506T070909Z",
  },
  {
    n: 16,
    name: "X-Amz-Date 16 minutes ahead",
    make: () => signed(BASE),
    nowMs: NOW - 16 * MINUTE,
    code: "InvalidSignatureException",
    message: "Signature not yet current: 20240506T070809Z is still later than 20240506T070709Z",
  },
  {
    n: 17,
    name: "tampered body",
    make: async () => ({ ...(await signed(BASE)), body: Buffer.from('{"ResourcesPerPage":11}') }),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 18,
    name: "tampered query value",
    make: async () => ({ ...(await signed(BASE)), rawQuery: "q=2" }),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 19,
    name: "extra query parameter",
    make: async () => ({ ...(await signed(BASE)), rawQuery: "q=1&extra=" }),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 20,
    name: "tampered path",
    make: async () => ({ ...(await signed(BASE)), rawPath: "/other" }),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 21,
    name: "tampered method",
    make: async () => ({ ...(await signed(BASE)), method: "PUT" }),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 22,
    name: "tampered signed header",
    make: async () =>
      withHeader(await signed(BASE), "x-amz-target", "ResourceGroupsTaggingAPI_20170126.TagResources"),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 23,
    name: "a signed header missing from the request",
    make: async () => withHeader(await signed(BASE), "x-amz-target", undefined),
    code: "InvalidSignatureException",
    message: "Signed header 'x-amz-target' is not present in the request",
  },
  {
    n: 24,
    name: "a repeated header arriving once more than signed",
    make: async () => {
      const req = await signed({ ...BASE, headers: { ...JSON_HEADERS, "x-amz-meta-a": "one" } });
      req.headers.set("x-amz-meta-a", ["one", "two"]);
      return req;
    },
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 25,
    name: "host not among the signed headers",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(req, "authorization", authorization(req).replace(";host;", ";"));
    },
    code: "InvalidSignatureException",
    message: "'Host' must be a signed header",
  },
  {
    n: 26,
    name: "scope date differs from the X-Amz-Date date",
    make: async () => {
      const req = await signed(BASE, { signingDate: new Date("2024-05-06T23:59:30Z") });
      return withHeader(req, "x-amz-date", "20240507T000030Z");
    },
    nowMs: Date.parse("2024-05-07T00:00:30Z"),
    code: "InvalidSignatureException",
    message:
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240506' != '20240507'",
  },
  {
    n: 27,
    name: "signature in upper-case hex",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(
        req,
        "authorization",
        authorization(req).replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${s.toUpperCase()}`),
      );
    },
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 28,
    name: "signature one hex digit short",
    make: async () => {
      const req = await signed(BASE);
      return withHeader(req, "authorization", authorization(req).replace(/[0-9a-f]$/, ""));
    },
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 29,
    name: "presigned URL past its X-Amz-Expires",
    make: () => presigned(BASE, 300),
    nowMs: NOW + 301_000,
    code: "InvalidSignatureException",
    message: "Signature expired: 20240506T070809Z is now earlier than 20240506T070810Z",
  },
  {
    n: 30,
    name: "presigned URL dated 16 minutes ahead",
    make: () => presigned(BASE, 300),
    nowMs: NOW - 16 * MINUTE,
    code: "InvalidSignatureException",
    message: "Signature not yet current",
  },
  {
    n: 31,
    name: "presigned URL with a longer X-Amz-Expires than signed",
    make: async () => {
      const req = await presigned(BASE, 300);
      return { ...req, rawQuery: req.rawQuery.replace("X-Amz-Expires=300", "X-Amz-Expires=3600") };
    },
    nowMs: NOW + 600_000,
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 32,
    name: "presigned URL with X-Amz-Expires out of range",
    make: async () => {
      const req = await presigned(BASE, 300);
      return { ...req, rawQuery: req.rawQuery.replace("X-Amz-Expires=300", "X-Amz-Expires=604801") };
    },
    code: "IncompleteSignatureException",
    message: "X-Amz-Expires must be an integer from 1 to 604800",
  },
  {
    n: 33,
    name: "presigned URL with a non-numeric X-Amz-Expires",
    make: async () => {
      const req = await presigned(BASE, 300);
      return { ...req, rawQuery: req.rawQuery.replace("X-Amz-Expires=300", "X-Amz-Expires=5m") };
    },
    code: "IncompleteSignatureException",
    message: "X-Amz-Expires must be an integer",
  },
  {
    n: 34,
    name: "presigned URL without X-Amz-Date",
    make: async () => {
      const req = await presigned(BASE, 300);
      return { ...req, rawQuery: req.rawQuery.replace(/X-Amz-Date=[^&]*&?/, "") };
    },
    code: "IncompleteSignatureException",
    message: "Presigned request is missing X-Amz-Date",
  },
  {
    n: 35,
    name: "presigned URL with another algorithm",
    make: async () => {
      const req = await presigned(BASE, 300);
      return { ...req, rawQuery: req.rawQuery.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1") };
    },
    code: "IncompleteSignatureException",
    message: "X-Amz-Algorithm must be AWS4-HMAC-SHA256",
  },
  {
    n: 36,
    name: "presigned URL with a tampered query parameter",
    make: async () => {
      const req = await presigned(BASE, 300);
      return { ...req, rawQuery: req.rawQuery.replace("q=1", "q=2") };
    },
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
  {
    n: 37,
    name: "presigned URL with a tampered body",
    make: async () => ({ ...(await presigned(BASE, 300)), body: Buffer.from("{}") }),
    code: "InvalidSignatureException",
    message: MISMATCH,
  },
];

describe("verifySigV4 rejects", () => {
  for (const c of REJECT_CASES) {
    test(`${c.n}. ${c.name} → ${c.code}`, async () => {
      const req = await c.make();
      expectSigV4Error(
        () => verifySigV4(req, lookup, new SigningKeyCache(), c.nowMs ?? NOW),
        c.code,
        c.message,
      );
    });
  }
});

describe("clock skew", () => {
  const skewCases: { n: number; offsetMs: number; ok: boolean }[] = [
    { n: 1, offsetMs: 0, ok: true },
    { n: 2, offsetMs: 14 * MINUTE, ok: true },
    { n: 3, offsetMs: -14 * MINUTE, ok: true },
    { n: 4, offsetMs: 15 * MINUTE, ok: true },
    { n: 5, offsetMs: 15 * MINUTE + 1000, ok: false },
    { n: 6, offsetMs: -(15 * MINUTE + 1000), ok: false },
    { n: 7, offsetMs: 16 * MINUTE, ok: false },
    { n: 8, offsetMs: -16 * MINUTE, ok: false },
  ];
  for (const c of skewCases) {
    test(`${c.n}. server clock ${c.offsetMs / 1000} s from X-Amz-Date → ${c.ok ? "accepted" : "rejected"}`, async () => {
      const req = await signed(BASE);
      const run = () => verifySigV4(req, lookup, new SigningKeyCache(), NOW + c.offsetMs);
      if (c.ok) run();
      else
        expectSigV4Error(
          run,
          "InvalidSignatureException",
          c.offsetMs > 0 ? "Signature expired" : "not yet current",
        );
    });
  }

  const auth = (over: Partial<SigV4Auth>): SigV4Auth => ({
    accessKeyId: ACCESS_KEY,
    date: "20240506",
    region: "us-east-1",
    service: "tagging",
    signedHeaders: ["host"],
    signature: "",
    amzDate: "20240506T070809Z",
    presigned: false,
    ...over,
  });

  test("checkSkew messages name both times and the 15 minutes", () => {
    expectSigV4Error(
      () => checkSkew(auth({}), NOW + 16 * MINUTE),
      "InvalidSignatureException",
      "Signature expired: 20240506T070809Z is now earlier than 20240506T070909Z (20240506T072409Z - 15 min.)",
    );
    expectSigV4Error(
      () => checkSkew(auth({}), NOW - 16 * MINUTE),
      "InvalidSignatureException",
      "Signature not yet current: 20240506T070809Z is still later than 20240506T070709Z (20240506T065209Z + 15 min.)",
    );
  });

  test("checkSkew: a presigned URL lives X-Amz-Expires seconds, 900 when absent", () => {
    checkSkew(auth({ presigned: true, expires: 3600 }), NOW + 59 * MINUTE);
    expectSigV4Error(
      () => checkSkew(auth({ presigned: true, expires: 3600 }), NOW + 61 * MINUTE),
      "InvalidSignatureException",
      "Signature expired",
    );
    checkSkew(auth({ presigned: true }), NOW + 15 * MINUTE);
    expectSigV4Error(
      () => checkSkew(auth({ presigned: true }), NOW + 15 * MINUTE + 1),
      "InvalidSignatureException",
      "Signature expired",
    );
  });

  test("checkSkew rejects an impossible calendar date", () => {
    expectSigV4Error(
      () => checkSkew(auth({ amzDate: "20241340T250000Z", date: "20241340" }), NOW),
      "IncompleteSignatureException",
      "ISO 8601 basic format",
    );
  });
});

describe("parseAuth", () => {
  test("1. header auth: fields parsed from a smithy Authorization header", async () => {
    const req = await signed(BASE);
    const auth = parseAuth(req);
    assert.deepEqual(
      { ...auth, signature: auth.signature.length },
      {
        accessKeyId: ACCESS_KEY,
        date: "20240506",
        region: "us-east-1",
        service: "tagging",
        signedHeaders: ["content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-target"],
        signature: 64,
        amzDate: "20240506T070809Z",
        presigned: false,
      },
    );
  });

  test("2. presigned: fields parsed from the query string", async () => {
    const req = await presigned(BASE, 120);
    const auth = parseAuth(req);
    assert.equal(auth.presigned, true);
    assert.equal(auth.expires, 120);
    assert.equal(auth.amzDate, "20240506T070809Z");
    assert.deepEqual(auth.signedHeaders, ["content-type", "host"]);
  });

  test("3. the Date header stands in for a missing X-Amz-Date", async () => {
    const req = withHeader(await signed(BASE), "x-amz-date", undefined);
    req.headers.set("date", ["Mon, 06 May 2024 07:08:09 GMT"]);
    assert.equal(parseAuth(req).amzDate, "20240506T070809Z");
  });

  test("4. the header wins over a presigned query string", async () => {
    const header = await signed(BASE);
    const query = await presigned(BASE, 60);
    assert.equal(parseAuth({ ...header, rawQuery: query.rawQuery }).presigned, false);
  });
});

describe("canonical forms", () => {
  const paths: [number, string, string][] = [
    [1, "/", "/"],
    [2, "", ""],
    [3, "/a%20b/", "/a%2520b/"],
    [4, "/foo/../bar", "/bar"],
    [5, "//double//slash", "/double/slash"],
    [6, "/./a/./b/", "/a/b/"],
    [7, "/%E2%82%AC", "/%25E2%2582%25AC"],
    [8, "/tilde~star*", "/tilde~star%2A"],
    [9, "/../..", "/"],
    [10, "/a/b/../../c/", "/c/"],
  ];
  for (const [n, raw, canonical] of paths) {
    test(`path ${n}. ${JSON.stringify(raw)} → ${canonical}`, () => {
      assert.equal(canonicalPath(raw), canonical);
    });
  }

  const queries: [number, string, string][] = [
    [1, "", ""],
    [2, "b=2&a=1", "a=1&b=2"],
    [3, "k=b&k=a&k=c", "k=a&k=b&k=c"],
    [4, "empty=&bare", "bare=&empty="],
    [5, "a%20b=c%2Bd", "a%20b=c%2Bd"],
    [6, "plus=1%2B1%3D2", "plus=1%2B1%3D2"],
    [7, "u=%E2%82%AC&%C3%BC=x", "%C3%BC=x&u=%E2%82%AC"],
    [8, "m=!'()*", "m=%21%27%28%29%2A"],
    [9, "t=~-_.", "t=~-_."],
    [10, "X-Amz-Signature=abc&a=1", "a=1"],
    [11, "bad=%E2%82", "bad=%25E2%2582"],
    [12, "&&a=1&&", "a=1"],
  ];
  for (const [n, raw, canonical] of queries) {
    test(`query ${n}. ${JSON.stringify(raw)} → ${JSON.stringify(canonical)}`, () => {
      assert.equal(canonicalQuery(raw), canonical);
    });
  }

  const smithyQueries: [number, Query][] = [
    [1, { Tag: ["b", "a", "c"], Action: "List" }],
    [2, { "key with space": "v", "a&b=c": "x/y", ümlaut: "ß" }],
    [3, { plus: "1+1=2", "a+b": "c=d", "=": "+" }],
    [4, { "emoji😀": "日本語", "€": "€ 1" }],
    [5, { "a b": "1", a_b: "2", "a-b": "3", A: "4", a: "5" }],
    [6, { k: ["", "x", ""], empty: "" }],
  ];
  for (const [n, query] of smithyQueries) {
    test(`query ${n} matches smithy's getCanonicalQuery on the serialised string`, () => {
      assert.equal(canonicalQuery(serializeQuery(query)), getCanonicalQuery({ query } as HttpRequest));
    });
  }

  const req = (headers: [string, string[]][]): SigV4Request => ({
    method: "GET",
    rawPath: "/",
    rawQuery: "",
    headers: new Map(headers),
    body: Buffer.alloc(0),
  });
  const headerCases: [number, string, [string, string[]][], string[], string][] = [
    [
      1,
      "repeats joined by a comma",
      [["x-amz-meta-a", ["one", "two"]]],
      ["x-amz-meta-a"],
      "x-amz-meta-a:one,two\n",
    ],
    [2, "inner runs collapsed", [["x-a", ["a   b\t\tc"]]], ["x-a"], "x-a:a b c\n"],
    [3, "outer blanks trimmed", [["x-a", [" \t a b \t "]]], ["x-a"], "x-a:a b\n"],
    [4, "each repeat trimmed", [["x-a", [" one ", "  two  "]]], ["x-a"], "x-a:one,two\n"],
    [5, "empty value", [["x-a", [""]]], ["x-a"], "x-a:\n"],
    [
      6,
      "order of SignedHeaders kept",
      [
        ["b", ["2"]],
        ["a", ["1"]],
      ],
      ["a", "b"],
      "a:1\nb:2\n",
    ],
    [7, "UTF-8 bytes read back as text", [["x-a", [asNodeReceives("日本 €")]]], ["x-a"], "x-a:日本 €\n"],
    [
      8,
      "non-breaking space kept",
      [["x-a", [asNodeReceives("a\u00a0 b\u00a0")]]],
      ["x-a"],
      "x-a:a\u00a0 b\u00a0\n",
    ],
    [9, "a byte that is not UTF-8 kept as its latin1 char", [["x-a", ["caf\u00e9"]]], ["x-a"], "x-a:café\n"],
  ];
  for (const [n, name, headers, signedHeaders, canonical] of headerCases) {
    test(`headers ${n}. ${name}`, () => {
      assert.equal(canonicalHeaders(req(headers), signedHeaders), canonical);
    });
  }
});

describe("signing key and signature compare", () => {
  const scope = { accessKeyId: ACCESS_KEY, date: "20120215", region: "us-east-1", service: "iam" };

  test("1. derived key matches the AWS documentation's example and smithy", async () => {
    const key = deriveSigningKey(SECRET, "20120215", "us-east-1", "iam");
    assert.equal(key.toString("hex"), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    const smithy = await getSigningKey(
      Sha256,
      { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET },
      "20120215",
      "us-east-1",
      "iam",
    );
    assert.deepEqual(Buffer.from(smithy), key);
  });

  test("2. the cache returns the same Buffer for the same inputs", () => {
    const cache = new SigningKeyCache();
    const a = cache.get(SECRET, scope);
    const b = cache.get(SECRET, { ...scope });
    assert.equal(a, b);
  });

  test("3. the cache returns another key for another secret under the same access key", () => {
    const cache = new SigningKeyCache();
    const a = cache.get(SECRET, scope);
    const b = cache.get("rotated-secret", scope);
    assert.notEqual(a, b);
    assert.notDeepEqual(a, b);
    assert.deepEqual(b, deriveSigningKey("rotated-secret", "20120215", "us-east-1", "iam"));
  });

  test("4. the cache keys on day, region and service", () => {
    const cache = new SigningKeyCache();
    const a = cache.get(SECRET, scope);
    for (const other of [{ date: "20120216" }, { region: "eu-west-1" }, { service: "kms" }]) {
      assert.notDeepEqual(cache.get(SECRET, { ...scope, ...other }), a);
    }
  });

  test("5. the cache evicts beyond its size and still returns correct keys", () => {
    const cache = new SigningKeyCache(2);
    const first = cache.get(SECRET, scope);
    cache.get(SECRET, { ...scope, region: "eu-west-1" });
    cache.get(SECRET, { ...scope, region: "eu-west-2" });
    const again = cache.get(SECRET, scope);
    assert.notEqual(again, first);
    assert.deepEqual(again, first);
  });

  const key = deriveSigningKey(SECRET, "20240506", "us-east-1", "tagging");
  const toSign = "AWS4-HMAC-SHA256\n20240506T070809Z\n20240506/us-east-1/tagging/aws4_request\nabc";
  const compareCases: [number, string, (s: string) => string, boolean][] = [
    [1, "the right signature", (s) => s, true],
    [2, "one digit changed", (s) => `${s.slice(0, -1)}${s.endsWith("0") ? "1" : "0"}`, false],
    [3, "upper-case hex", (s) => s.toUpperCase(), false],
    [4, "one digit short", (s) => s.slice(0, -1), false],
    [5, "one digit more", (s) => `${s}0`, false],
    [6, "empty", () => "", false],
    [7, "not hex", (s) => `${s.slice(0, -2)}zz`, false],
  ];
  for (const [n, name, change, ok] of compareCases) {
    test(`verifySignature ${n}. ${name} → ${ok}`, async () => {
      const expected = await signer().sign(toSign, {
        signingDate: SIGNING_DATE,
        signingRegion: "us-east-1",
        signingService: "tagging",
      });
      assert.equal(verifySignature(key, toSign, change(expected)), ok);
    });
  }
});
