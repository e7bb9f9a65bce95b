import { createHash, createHmac, randomBytes } from "node:crypto";
import type { BenchRequest, SignedRequest } from "./load.ts";

/**
 * A client-side ACS3-HMAC-SHA256 signer for Alibaba Cloud RPC calls, shaped as the official SDKs send
 * them: every parameter in the query string, an empty body, `host` and the `x-acs-*` headers signed.
 * A request's `target` is the action and its `body` the parameters, already as a query string.
 */
export interface AcsSignerOptions {
  accessKeyId: string;
  secret: string;
  /** API version: `2014-05-26` (ECS), `2016-01-20` (KMS). */
  version: string;
  /** `host[:port]` exactly as the Host header will carry it. */
  host: string;
}

const EMPTY_SHA256 = createHash("sha256").update("").digest("hex");
const SIGNED_HEADERS =
  "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";

/** RFC 3986 percent-encoding, as the ACS3 canonical query string wants it. */
export function acsEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Parameters as the canonical (sorted, encoded) query string: what a BenchRequest's body holds. */
export function acsQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${acsEncode(k)}=${acsEncode(params[k] as string)}`)
    .join("&");
}

export class AcsSigner {
  private readonly noncePrefix = randomBytes(8).toString("hex");
  private counter = 0;
  private second = -1;
  private date = "";

  constructor(private readonly options: AcsSignerOptions) {}

  /** `yyyy-MM-ddTHH:mm:ssZ`, recomputed once a second. */
  private timestamp(): string {
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      this.second = second;
      this.date = new Date(second * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    }
    return this.date;
  }

  signRequest(request: BenchRequest): SignedRequest {
    const { accessKeyId, secret, version, host } = this.options;
    const date = this.timestamp();
    // Every request needs a nonce of its own: tagd refuses a replay.
    const nonce = `${this.noncePrefix}-${(this.counter++).toString(36)}`;
    const headers: Record<string, string> = {
      host,
      "x-acs-action": request.target,
      "x-acs-content-sha256": EMPTY_SHA256,
      "x-acs-date": date,
      "x-acs-signature-nonce": nonce,
      "x-acs-version": version,
    };
    const canonicalHeaders = SIGNED_HEADERS.split(";")
      .map((h) => `${h}:${headers[h]}\n`)
      .join("");
    const canonical = `POST\n/\n${request.body}\n${canonicalHeaders}\n${SIGNED_HEADERS}\n${EMPTY_SHA256}`;
    const stringToSign = `ACS3-HMAC-SHA256\n${createHash("sha256").update(canonical).digest("hex")}`;
    const signature = createHmac("sha256", secret).update(stringToSign).digest("hex");
    headers.authorization = `ACS3-HMAC-SHA256 Credential=${accessKeyId},SignedHeaders=${SIGNED_HEADERS},Signature=${signature}`;
    return { path: `/?${request.body}`, headers };
  }
}
