import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { ServiceError } from "../errors.ts";
import { missingParameter, protocolError } from "../protocols/aliyun-rpc.ts";

/**
 * Alibaba Cloud request signatures as a server verifies them, in small pure steps: find the
 * credentials (ACS3 `Authorization` header, or v1 `Signature` parameter) → build the string to sign
 * from the *decoded* request → sign with the caller's secret → compare in constant time.
 *
 * ACS3-HMAC-SHA256 (the SDKs' default), as recorded from `@alicloud/ecs20140526`:
 *   Authorization: ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=host;x-acs-…,Signature=<hex>
 *   canonical request = method \n path \n canonical query \n canonical headers \n signed headers \n
 *                       x-acs-content-sha256
 *   string to sign    = "ACS3-HMAC-SHA256" \n hex(sha256(canonical request)); signature = hex(hmac-sha256)
 * The form body is not in the canonical query: it is covered by `x-acs-content-sha256`, which must
 * be the body's hash.
 *
 * v1 (`signatureAlgorithm: 'v2'` in the SDKs): parameters `AccessKeyId`, `SignatureMethod=HMAC-SHA1`,
 * `SignatureVersion=1.0`, `SignatureNonce`, `Timestamp`, `Signature`;
 *   string to sign = method & %2F & percentEncode(sorted encoded query and form parameters)
 *   signature      = base64(hmac-sha1(secret + "&", string to sign))
 */
export interface AliyunSignedRequest {
  method: string;
  /** The path exactly as sent, without the query string. */
  rawPath: string;
  /** Header names lower-cased; repeated headers in arrival order. */
  headers: Map<string, string[]>;
  /** Decoded query parameters, in arrival order. */
  query: [string, string][];
  /** Decoded form-body parameters, in arrival order. */
  form: [string, string][];
  body: Buffer;
}

export type AliyunScheme = "ACS3-HMAC-SHA256" | "HMAC-SHA1";

export interface AliyunCredentials {
  scheme: AliyunScheme;
  accessKeyId: string;
  signature: string;
  nonce: string;
  /** The request time as sent: `x-acs-date` or `Timestamp`. */
  timestamp: string;
  /** What the signature must be over, rebuilt from the decoded request. */
  stringToSign: string;
}

const ACS3 = "ACS3-HMAC-SHA256";

/** RFC 3986 percent-encoding, as both signature versions use it (`*` → `%2A`, `~` kept). */
export function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headerValue(req: AliyunSignedRequest, name: string): string | undefined {
  return req.headers.get(name)?.join(",");
}

function incomplete(detail: string): ServiceError {
  return protocolError(
    "IncompleteSignature",
    `The request signature does not conform to Aliyun standards: ${detail}.`,
  );
}

/** Step 1: the credentials and the string to sign, for whichever scheme the request uses. */
export function parseAliyunAuth(req: AliyunSignedRequest): AliyunCredentials {
  const authorization = headerValue(req, "authorization");
  if (authorization !== undefined) return parseAcs3(req, authorization);
  if (req.query.some(([k]) => k === "Signature") || req.form.some(([k]) => k === "Signature"))
    return parseV1(req);
  throw missingParameter("AccessKeyId");
}

function parseAcs3(req: AliyunSignedRequest, authorization: string): AliyunCredentials {
  const trimmed = authorization.trim();
  const space = trimmed.indexOf(" ");
  const algorithm = space < 0 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ACS3)
    incompleteThrow(`the signature algorithm '${algorithm}' is not supported, use ${ACS3}`);
  const fields = new Map<string, string>();
  for (const part of trimmed.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((f) => !fields.get(f));
  if (missing.length > 0) incompleteThrow(`the Authorization header lacks ${missing.join(", ")}`);
  const signedHeaders = [...new Set((fields.get("SignedHeaders") as string).split(";"))].sort();
  for (const name of signedHeaders) {
    if (name !== name.toLowerCase() || name === "")
      incompleteThrow(`SignedHeaders must list lower-case header names, not '${name}'`);
    if (name === "authorization") incompleteThrow("the Authorization header cannot sign itself");
    if (!req.headers.has(name)) incompleteThrow(`the signed header '${name}' is not in the request`);
  }
  // "All common request headers except Authorization must be signed if present": an unsigned
  // x-acs-* header (the action, the nonce, the date) could otherwise be swapped in transit.
  for (const name of req.headers.keys()) {
    const mustSign = name === "host" || name === "content-type" || name.startsWith("x-acs-");
    if (mustSign && !signedHeaders.includes(name))
      incompleteThrow(`the header '${name}' must be in SignedHeaders`);
  }
  const timestamp = headerValue(req, "x-acs-date");
  if (timestamp === undefined) throw missingParameter("x-acs-date");
  const nonce = headerValue(req, "x-acs-signature-nonce");
  if (nonce === undefined) throw missingParameter("x-acs-signature-nonce");
  const payloadHash = headerValue(req, "x-acs-content-sha256");
  if (payloadHash === undefined) throw missingParameter("x-acs-content-sha256");
  const actualHash = createHash("sha256").update(req.body).digest("hex");
  if (payloadHash.trim().toLowerCase() !== actualHash) {
    throw protocolError(
      "SignatureDoesNotMatch",
      "Specified signature is not matched with our calculation: x-acs-content-sha256 is not the SHA-256 of the request body.",
    );
  }

  const canonicalQuery = req.query
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonicalHeaders = signedHeaders
    .map(
      (name) =>
        `${name}:${(req.headers.get(name) ?? [])
          .map((v) => v.trim())
          .sort()
          .join(",")}\n`,
    )
    .join("");
  const canonicalUri = req.rawPath.replace(/\+/g, "%20").replace(/\*/g, "%2A").replace(/%7E/gi, "~");
  const canonicalRequest = [
    req.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedHeaders.join(";"),
    payloadHash.trim(),
  ].join("\n");
  return {
    scheme: ACS3,
    accessKeyId: fields.get("Credential") as string,
    signature: fields.get("Signature") as string,
    nonce,
    timestamp,
    stringToSign: `${ACS3}\n${createHash("sha256").update(canonicalRequest).digest("hex")}`,
  };
}

function parseV1(req: AliyunSignedRequest): AliyunCredentials {
  const params = new Map([...req.query, ...req.form]);
  const required = (name: string): string => {
    const v = params.get(name);
    if (v === undefined || v === "") throw missingParameter(name);
    return v;
  };
  const accessKeyId = required("AccessKeyId");
  const method = required("SignatureMethod");
  if (method !== "HMAC-SHA1") incompleteThrow(`SignatureMethod '${method}' is not supported, use HMAC-SHA1`);
  const version = required("SignatureVersion");
  if (version !== "1.0") incompleteThrow(`SignatureVersion '${version}' is not supported, use 1.0`);
  const nonce = required("SignatureNonce");
  const timestamp = required("Timestamp");
  const signature = required("Signature");
  const canonical = [...params]
    .filter(([k]) => k !== "Signature")
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  return {
    scheme: "HMAC-SHA1",
    accessKeyId,
    signature,
    nonce,
    timestamp,
    stringToSign: `${req.method}&${percentEncode("/")}&${percentEncode(canonical)}`,
  };
}

function incompleteThrow(detail: string): never {
  throw incomplete(detail);
}

/** Step 2: the signature the secret gives over the string to sign. */
export function expectedSignature(auth: AliyunCredentials, secret: string): string {
  if (auth.scheme === ACS3) return createHmac("sha256", secret).update(auth.stringToSign).digest("hex");
  return createHmac("sha1", `${secret}&`).update(auth.stringToSign).digest("base64");
}

/** Step 3: constant-time comparison (hashing first makes the lengths equal, so they leak nothing). */
export function signatureMatches(auth: AliyunCredentials, secret: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(expectedSignature(auth, secret)), digest(auth.signature));
}
