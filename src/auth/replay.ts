import { invalidParameter, protocolError } from "../protocols/aliyun-rpc.ts";
import type { TagStore } from "../store/store.ts";

/**
 * Replay protection for Alibaba requests, apart from the signature maths: the request time must be
 * within 15 minutes of the server clock ("用户时间和服务器时间不在 15 分钟内" is what
 * InvalidTimeStamp.Expired means), and a signature nonce is accepted once per access key for as
 * long as its request could pass that check. Nonces live in the store, so every instance on one
 * database refuses a replay.
 */
export const ALIYUN_MAX_SKEW_MS = 15 * 60 * 1000;

/** `yyyy-MM-ddTHH:mm:ssZ` (the SDKs), milliseconds allowed (seen from older clients). */
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?Z$/;

/** The request time in ms, or `InvalidTimeStamp.Format` / `InvalidTimeStamp.Expired`. */
export function checkTimestamp(timestamp: string, now: number): number {
  const m = TIMESTAMP_RE.exec(timestamp);
  const [, y, mo, d, h, mi, s, frac] = m ?? [];
  const ms = m
    ? Date.UTC(
        Number(y),
        Number(mo) - 1,
        Number(d),
        Number(h),
        Number(mi),
        Number(s),
        Number(frac ?? 0) * 1000,
      )
    : Number.NaN;
  // Date.UTC rolls 2026-02-31 over to March: a date that does not round-trip is not a date.
  if (!m || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== timestamp.slice(0, 19))
    throw protocolError("InvalidTimeStamp.Format");
  if (Math.abs(now - ms) > ALIYUN_MAX_SKEW_MS) throw protocolError("InvalidTimeStamp.Expired");
  return ms;
}

const NONCE_RE = /^[\x21-\x7e]{1,128}$/;

/** Accepts the nonce once; `SignatureNonceUsed` when this access key used it already. */
export async function checkNonce(
  store: TagStore,
  accessKeyId: string,
  nonce: string,
  requestTime: number,
  now: number,
): Promise<void> {
  if (!NONCE_RE.test(nonce))
    throw invalidParameter("SignatureNonce", "it must be 1 to 128 printable ASCII characters");
  const fresh = await store.rememberNonce(accessKeyId, nonce, requestTime + ALIYUN_MAX_SKEW_MS, now);
  if (!fresh) throw protocolError("SignatureNonceUsed");
}
