import { createHmac, timingSafeEqual } from "node:crypto";
import { DomainError } from "../errors.ts";

/** What a token is bound to: a token only opens for the same account, region and query. */
export interface TokenBinding {
  accountId: string;
  region: string;
  /** The operation and a canonical form of its filters. */
  query: string;
}

export const AWS_TOKEN_TTL_MS = 15 * 60 * 1000;

/**
 * Opaque, HMAC-signed pagination tokens: `<payload>.<mac>`, both base64url. The payload carries the
 * store's cursor and the issue time; the MAC covers the payload and the binding, so a token replayed
 * with another account, region or query fails like a tampered one. Instances that share the secret
 * accept each other's tokens.
 */
export class TokenSigner {
  constructor(
    private readonly secret: string,
    private readonly now: () => number = Date.now,
  ) {}

  issue(binding: TokenBinding, cursor: string): string {
    const payload = Buffer.from(JSON.stringify({ c: cursor, t: this.now() })).toString("base64url");
    return `${payload}.${this.mac(payload, binding).toString("base64url")}`;
  }

  /** Returns the cursor; throws `PaginationTokenInvalid` or, past `ttlMs`, `PaginationTokenExpired`. */
  open(token: string, binding: TokenBinding, ttlMs?: number): string {
    const invalid = () =>
      new DomainError("PaginationTokenInvalid", "The specified pagination token is invalid");
    const dot = token.indexOf(".");
    if (dot <= 0 || token.length > 2048) throw invalid();
    const payload = token.slice(0, dot);
    // Compared as text: decoding base64url skips stray chars, padding and spare low bits, so
    // byte comparison would let many spellings of one MAC through.
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload, binding).toString("base64url"));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
      throw invalid();
    }
    const { c, t } = (parsed ?? {}) as { c?: unknown; t?: unknown };
    if (typeof c !== "string" || typeof t !== "number") throw invalid();
    if (ttlMs !== undefined && this.now() - t > ttlMs) {
      throw new DomainError(
        "PaginationTokenExpired",
        "The specified pagination token has expired: a pagination token is valid for 15 minutes",
      );
    }
    return c;
  }

  private mac(payload: string, b: TokenBinding): Buffer {
    return createHmac("sha256", this.secret)
      .update(`${b.accountId}\n${b.region}\n${b.query}\n${payload}`)
      .digest();
  }
}
