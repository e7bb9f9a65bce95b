import { createHash, createHmac } from "node:crypto";
import type { BenchRequest, SignedRequest } from "./load.ts";

/**
 * A client-side AWS Signature Version 4 signer for AWS JSON 1.1 POSTs to `/`, written for the load
 * generator: the signing key is cached per day and the timestamp per second, so a request costs two
 * SHA-256 digests and two HMACs — what any SDK pays, and no more.
 */
export interface Credentials {
  accessKeyId: string;
  secret: string;
}

export interface SignerOptions {
  credentials: Credentials;
  region: string;
  /** The signing name: `tagging` for the Resource Groups Tagging API, `kms` for KMS. */
  service: string;
  /** `host[:port]` exactly as the Host header will carry it. */
  host: string;
}

export const AWS_JSON_CONTENT_TYPE = "application/x-amz-json-1.1";
const SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-target";

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export class SigV4Signer {
  private day = "";
  private signingKey: Buffer = Buffer.alloc(0);
  private second = -1;
  private amzDate = "";

  constructor(private readonly options: SignerOptions) {}

  /** `YYYYMMDDTHHMMSSZ`, recomputed once a second. */
  private timestamp(): string {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      this.second = second;
      this.amzDate = new Date(second * 1000)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}/, "");
    }
    return this.amzDate;
  }

  private keyFor(day: string): Buffer {
    if (day !== this.day) {
      const { credentials, region, service } = this.options;
      const kDate = hmac(`AWS4${credentials.secret}`, day);
      this.signingKey = hmac(hmac(hmac(kDate, region), service), "aws4_request");
      this.day = day;
    }
    return this.signingKey;
  }

  signRequest(request: BenchRequest): SignedRequest {
    return { path: "/", headers: this.sign(request.target, request.body), body: request.body };
  }

  /** The headers of one signed request: `target` is the full `X-Amz-Target` value. */
  sign(target: string, body: string | Buffer): Record<string, string> {
    const { credentials, region, service, host } = this.options;
    const amzDate = this.timestamp();
    const day = amzDate.slice(0, 8);
    const canonical =
      `POST\n/\n\n` +
      `content-type:${AWS_JSON_CONTENT_TYPE}\nhost:${host}\nx-amz-date:${amzDate}\nx-amz-target:${target}\n\n` +
      `${SIGNED_HEADERS}\n${sha256Hex(body)}`;
    const scope = `${day}/${region}/${service}/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac("sha256", this.keyFor(day)).update(stringToSign).digest("hex");
    return {
      "content-type": AWS_JSON_CONTENT_TYPE,
      host,
      "x-amz-date": amzDate,
      "x-amz-target": target,
      authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
    };
  }
}
