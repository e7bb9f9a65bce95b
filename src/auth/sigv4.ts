import * as crypto from "node:crypto";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { setBounded } from "../bounded-map.ts";

/**
 * AWS Signature Version 4 as a server verifies it, in small pure steps:
 * parse (header or presigned query) → canonical request → string to sign → signing key → compare.
 * Each step fails with the code AWS JSON services return. The clock check lives apart, in `checkSkew`.
 */
export type SigV4ErrorCode =
  | "MissingAuthenticationTokenException"
  | "IncompleteSignatureException"
  | "InvalidSignatureException"
  | "UnrecognizedClientException";

export class SigV4Error extends Error {
  constructor(
    readonly code: SigV4ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface SigV4Request {
  method: string;
  /** The path exactly as sent, still percent-encoded, without the query string. */
  rawPath: string;
  /** The query string exactly as sent, without the leading `?`. */
  rawQuery: string;
  /** Header names lower-cased; repeated headers in arrival order. */
  headers: Map<string, string[]>;
  body: Buffer;
}

export interface SigV4Auth {
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  /** The request time, `X-Amz-Date` (basic ISO 8601). */
  amzDate: string;
  presigned: boolean;
  /** Seconds, for presigned URLs. */
  expires?: number;
}

const ALGORITHM = "AWS4-HMAC-SHA256";
const AMZ_DATE_RE = /^\d{8}T\d{6}Z$/;

function header(req: SigV4Request, name: string): string | undefined {
  return req.headers.get(name)?.join(",");
}

/** Step 1: find the signature, in the Authorization header or the presigned query string. */
export function parseAuth(req: SigV4Request): SigV4Auth {
  const authorization = header(req, "authorization");
  const query = new URLSearchParams(req.rawQuery);
  if (authorization !== undefined) return parseAuthorizationHeader(authorization, req);
  if (query.has("X-Amz-Signature") || query.has("X-Amz-Credential")) return parsePresigned(query);
  throw new SigV4Error("MissingAuthenticationTokenException", "Missing Authentication Token");
}

function parseCredential(credential: string) {
  const parts = credential.split("/");
  if (parts.length !== 5 || parts[4] !== "aws4_request" || parts.some((p) => p === "")) {
    throw new SigV4Error(
      "IncompleteSignatureException",
      `Credential should be scoped to a valid region, not a malformed scope: '${credential}'`,
    );
  }
  const [accessKeyId = "", date = "", region = "", service = ""] = parts;
  if (!/^\d{8}$/.test(date)) {
    throw new SigV4Error(
      "IncompleteSignatureException",
      `Credential should be scoped to a valid date: '${date}'`,
    );
  }
  return { accessKeyId, date, region, service };
}

export function parseAuthorizationHeader(value: string, req: SigV4Request): SigV4Auth {
  const trimmed = value.trim();
  const space = trimmed.indexOf(" ");
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw new SigV4Error(
      "IncompleteSignatureException",
      `Authorization header requires '${ALGORITHM}' as the algorithm`,
    );
  }
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((f) => !fields.get(f));
  if (missing.length > 0) {
    throw new SigV4Error(
      "IncompleteSignatureException",
      `Authorization header requires ${missing.map((m) => `'${m}'`).join(", ")} parameter${missing.length > 1 ? "s" : ""}. Authorization=${ALGORITHM}`,
    );
  }
  const amzDate = header(req, "x-amz-date") ?? dateHeaderAsAmzDate(header(req, "date"));
  if (!amzDate) {
    throw new SigV4Error(
      "IncompleteSignatureException",
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header",
    );
  }
  // Named fields, not a spread of parseCredential's result: V8 builds a spread-then-extended literal
  // slowly, and this runs on every request (~5 µs of the ~6 µs this function took).
  const { accessKeyId, date, region, service } = parseCredential(fields.get("Credential") as string);
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: (fields.get("SignedHeaders") as string).split(";"),
    signature: fields.get("Signature") as string,
    amzDate,
    presigned: false,
  };
}

export function parsePresigned(query: URLSearchParams): SigV4Auth {
  const required = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
  ];
  const missing = required.filter((k) => !query.get(k));
  if (missing.length > 0) {
    throw new SigV4Error(
      "IncompleteSignatureException",
      `Presigned request is missing ${missing.join(", ")}`,
    );
  }
  if (query.get("X-Amz-Algorithm") !== ALGORITHM) {
    throw new SigV4Error("IncompleteSignatureException", `X-Amz-Algorithm must be ${ALGORITHM}`);
  }
  const expiresRaw = query.get("X-Amz-Expires");
  const expires = expiresRaw === null ? undefined : Number(expiresRaw);
  if (expires !== undefined && (!Number.isInteger(expires) || expires < 1 || expires > 604800)) {
    throw new SigV4Error("IncompleteSignatureException", "X-Amz-Expires must be an integer from 1 to 604800");
  }
  return {
    ...parseCredential(query.get("X-Amz-Credential") as string),
    signedHeaders: (query.get("X-Amz-SignedHeaders") as string).split(";"),
    signature: query.get("X-Amz-Signature") as string,
    amzDate: query.get("X-Amz-Date") as string,
    presigned: true,
    expires,
  };
}

function dateHeaderAsAmzDate(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  return toAmzDate(ms);
}

export function toAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export function amzDateToMs(amzDate: string): number | undefined {
  if (!AMZ_DATE_RE.test(amzDate)) return undefined;
  const iso = `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters, UTF-8. */
export function uriEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Step 2a: the path, normalised (no `.`/`..`/empty segments) and encoded once more, as the SDKs do. */
export function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const seg of rawPath.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") segments.pop();
    else segments.push(seg);
  }
  const joined = `${rawPath.startsWith("/") ? "/" : ""}${segments.join("/")}${segments.length > 0 && rawPath.endsWith("/") ? "/" : ""}`;
  return uriEscape(joined).replace(/%2F/g, "/");
}

/** Step 2b: query parameters decoded, re-encoded, sorted by key then value; the signature excluded. */
export function canonicalQuery(rawQuery: string): string {
  if (rawQuery === "") return "";
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? "" : safeDecode(part.slice(eq + 1));
    if (key === "X-Amz-Signature") continue;
    pairs.push([uriEscape(key), uriEscape(value)]);
  }
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A header value as the client signed it. Node's HTTP parser hands values over one char per byte
 * (latin1), so UTF-8 text arrives as mojibake: read such bytes back as UTF-8, the bytes the client
 * hashed. A value that is not valid UTF-8 stays as it came: Node's own HTTP client sends chars up to
 * U+00FF as single bytes while the JS SDK signs their UTF-8, and keeping the char hashes those bytes.
 */
function headerText(value: string): string {
  if (!/[\u0080-\uffff]/.test(value) || /[\u0100-\uffff]/.test(value)) return value;
  try {
    return UTF8.decode(Buffer.from(value, "latin1"));
  } catch {
    return value;
  }
}

/**
 * SigV4's "trimall": outer blanks dropped, inner runs of spaces and tabs made one space. Only ASCII
 * blanks: `\s` would also eat U+00A0, which is the second byte of UTF-8 "à" as Node delivers it.
 */
function trimAll(value: string): string {
  return value.replace(/[ \t]+/g, " ").replace(/^ | $/g, "");
}

/** Step 2c: signed headers, values trimmed with inner blanks collapsed, repeats joined by commas. */
export function canonicalHeaders(req: SigV4Request, signedHeaders: string[]): string {
  return signedHeaders
    .map((name) => {
      const values = req.headers.get(name);
      if (values === undefined) {
        throw new SigV4Error(
          "InvalidSignatureException",
          `Signed header '${name}' is not present in the request`,
        );
      }
      return `${name}:${values.map((v) => trimAll(headerText(v))).join(",")}\n`;
    })
    .join("");
}

/**
 * Node's one-shot `crypto.hash` (20.12+) where it exists: under half the cost of a Hash object, and
 * every request hashes twice (its body and its canonical request).
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Buffer, encoding: "hex") => string })
  .hash;

export function sha256Hex(data: string | Buffer): string {
  if (oneShot) return oneShot("sha256", data, "hex");
  return createHash("sha256").update(data).digest("hex");
}

export function canonicalRequest(req: SigV4Request, auth: SigV4Auth): string {
  return [
    req.method.toUpperCase(),
    canonicalPath(req.rawPath),
    canonicalQuery(req.rawQuery),
    canonicalHeaders(req, auth.signedHeaders),
    auth.signedHeaders.join(";"),
    // The body's real hash: a client can't get a body past us under a hash it merely claims.
    sha256Hex(req.body),
  ].join("\n");
}

/** Step 3. */
export function stringToSign(auth: SigV4Auth, canonical: string): string {
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  return [ALGORITHM, auth.amzDate, scope, sha256Hex(canonical)].join("\n");
}

/** Step 4, cached per key, day, region and service: four HMACs saved on every request. */
export class SigningKeyCache {
  private readonly cache = new Map<string, { secret: string; key: Buffer }>();
  constructor(private readonly maxEntries = 1024) {}

  get(secret: string, auth: Pick<SigV4Auth, "accessKeyId" | "date" | "region" | "service">): Buffer {
    const id = `${auth.accessKeyId}/${auth.date}/${auth.region}/${auth.service}`;
    const hit = this.cache.get(id);
    if (hit && hit.secret === secret) return hit.key;
    const key = deriveSigningKey(secret, auth.date, auth.region, auth.service);
    setBounded(this.cache, id, { secret, key }, this.maxEntries);
    return key;
  }
}

export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac("sha256", `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac("sha256", kDate).update(region).digest();
  const kService = createHmac("sha256", kRegion).update(service).digest();
  return createHmac("sha256", kService).update("aws4_request").digest();
}

/** Step 5: constant-time comparison of the hex signatures. */
export function verifySignature(signingKey: Buffer, toSign: string, given: string): boolean {
  const expected = createHmac("sha256", signingKey).update(toSign).digest();
  const givenBytes = /^[0-9a-f]{64}$/.test(given) ? Buffer.from(given, "hex") : Buffer.alloc(expected.length);
  return (
    timingSafeEqual(expected, givenBytes) && givenBytes.length === expected.length && given.length === 64
  );
}

export const MAX_SKEW_MS = 15 * 60 * 1000;

/** The clock check, apart from the maths: 15 minutes either way, or the presigned URL's lifetime. */
export function checkSkew(auth: SigV4Auth, nowMs: number): void {
  const at = amzDateToMs(auth.amzDate);
  if (at === undefined) {
    throw new SigV4Error(
      "IncompleteSignatureException",
      `X-Amz-Date must be in ISO 8601 basic format: '${auth.amzDate}'`,
    );
  }
  if (auth.amzDate.slice(0, 8) !== auth.date) {
    throw new SigV4Error(
      "InvalidSignatureException",
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${auth.amzDate.slice(0, 8)}'`,
    );
  }
  if (auth.presigned) {
    const expiresAt = at + (auth.expires ?? 900) * 1000;
    if (nowMs > expiresAt) {
      throw new SigV4Error(
        "InvalidSignatureException",
        `Signature expired: ${auth.amzDate} is now earlier than ${toAmzDate(nowMs - (auth.expires ?? 900) * 1000)}`,
      );
    }
    if (at - nowMs > MAX_SKEW_MS) {
      throw new SigV4Error(
        "InvalidSignatureException",
        `Signature not yet current: ${auth.amzDate} is still later than ${toAmzDate(nowMs + MAX_SKEW_MS)}`,
      );
    }
    return;
  }
  if (nowMs - at > MAX_SKEW_MS) {
    throw new SigV4Error(
      "InvalidSignatureException",
      `Signature expired: ${auth.amzDate} is now earlier than ${toAmzDate(nowMs - MAX_SKEW_MS)} (${toAmzDate(nowMs)} - 15 min.)`,
    );
  }
  if (at - nowMs > MAX_SKEW_MS) {
    throw new SigV4Error(
      "InvalidSignatureException",
      `Signature not yet current: ${auth.amzDate} is still later than ${toAmzDate(nowMs + MAX_SKEW_MS)} (${toAmzDate(nowMs)} + 15 min.)`,
    );
  }
}

export type SecretLookup = (accessKeyId: string) => string | undefined;

/**
 * The whole check. Returns the parsed auth (access key, region and service of the scope) when the
 * signature is good; throws a `SigV4Error` otherwise.
 */
export function verifySigV4(
  req: SigV4Request,
  lookup: SecretLookup,
  cache: SigningKeyCache,
  nowMs: number,
): SigV4Auth {
  const auth = parseAuth(req);
  if (!auth.signedHeaders.includes("host")) {
    throw new SigV4Error("InvalidSignatureException", "'Host' must be a signed header");
  }
  checkSkew(auth, nowMs);
  const secret = lookup(auth.accessKeyId);
  if (secret === undefined) {
    throw new SigV4Error(
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    );
  }
  const toSign = stringToSign(auth, canonicalRequest(req, auth));
  if (!verifySignature(cache.get(secret, auth), toSign, auth.signature)) {
    throw new SigV4Error(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return auth;
}
