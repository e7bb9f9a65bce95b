import { isUtf8 } from "node:buffer";
import type { FastifyReply } from "fastify";
import { type DomainError, ServiceError } from "../errors.ts";
import type { ParamTable } from "./aliyun-params.ts";

/**
 * Alibaba Cloud's RPC style: `POST /` (or `GET`) with the parameters in the query string and, when
 * sent, a form body; routed by `x-acs-action` / `x-acs-version` headers (ACS3) or the `Action` /
 * `Version` parameters (v1). Answers are JSON with a `RequestId`; errors carry
 * `{"RequestId","HostId","Code","Message","Recommend"}` with the documented HTTP status.
 */
export const ALIYUN_CONTENT_TYPE = "application/json;charset=utf-8";

/** An error of the gateway itself, the same for every product: status and Alibaba's message. */
interface ProtocolError {
  status: number;
  message: string;
}

/**
 * The gateway's own errors, as the real service answers them (codes, statuses and messages seen in
 * recorded responses, e.g. `{"Code":"SignatureNonceUsed","Message":"Specified signature nonce was
 * used already."}` with 400, `InvalidAccessKeyId.NotFound` with 404).
 */
export const ALIYUN_PROTOCOL_ERRORS: Readonly<Record<string, ProtocolError>> = {
  "InvalidAction.NotFound": {
    status: 404,
    message: "Specified api is not found, please check your url and method.",
  },
  InvalidVersion: { status: 400, message: "Specified parameter Version is not valid." },
  "InvalidAccessKeyId.NotFound": { status: 404, message: "Specified access key is not found." },
  SignatureDoesNotMatch: { status: 400, message: "Specified signature is not matched with our calculation." },
  IncompleteSignature: {
    status: 400,
    message: "The request signature does not conform to Aliyun standards.",
  },
  SignatureNonceUsed: { status: 400, message: "Specified signature nonce was used already." },
  "InvalidTimeStamp.Expired": { status: 400, message: "Specified time stamp or date value is expired." },
  "InvalidTimeStamp.Format": {
    status: 400,
    message: "Specified time stamp or date value is not well formatted.",
  },
  MissingParameter: {
    status: 400,
    message: "The input parameter that is mandatory for processing this request is not supplied.",
  },
  InvalidParameter: { status: 400, message: "The specified parameter is not valid." },
  "Throttling.User": { status: 400, message: "Request was denied due to user flow control." },
  RequestEntityTooLarge: { status: 413, message: "The request body is too large." },
  ServiceUnavailable: {
    status: 503,
    message: "The request has failed due to a temporary failure of the server.",
  },
  InternalError: {
    status: 500,
    message: "The request processing has failed due to some unknown error, exception or failure.",
  },
};

export function protocolError(code: keyof typeof ALIYUN_PROTOCOL_ERRORS & string, message?: string) {
  const known = ALIYUN_PROTOCOL_ERRORS[code] as ProtocolError;
  return new ServiceError(code, message ?? known.message, known.status);
}

/** `MissingParameter` naming the parameter, in Alibaba's words. */
export function missingParameter(name: string): ServiceError {
  return protocolError(
    "MissingParameter",
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );
}

/** `InvalidParameter` naming the parameter and saying what is wrong with it. */
export function invalidParameter(name: string, why: string): ServiceError {
  return protocolError("InvalidParameter", `The specified parameter "${name}" is not valid: ${why}.`);
}

/** Whatever a handler needs to know about the caller; never HTTP. */
export interface RpcContext<Deps> {
  requestId: string;
  accountId: string;
  accessKeyId: string;
  deps: Deps;
}

export interface RpcAction<Deps, T extends ParamTable = ParamTable> {
  params: T;
  /**
   * The action only reads: it may run while its request's nonce is being recorded (see
   * AliyunRpcPipeline.handle); an action that writes runs only after.
   */
  readOnly?: boolean;
  // biome-ignore lint/suspicious/noExplicitAny: each action narrows its own input through `params`.
  handler(ctx: RpcContext<Deps>, input: any): Promise<object>;
}

/** One Alibaba Cloud product at one API version, with its own error catalogue. */
export interface RpcProduct<Deps> {
  /** As the troubleshooting links name it: `Ecs`, `Kms`. */
  name: string;
  version: string;
  /** Translates a dialect-free domain failure into this product's error. */
  domainError(err: DomainError): ServiceError;
  actions: Readonly<Record<string, RpcAction<Deps>>>;
}

/** The parameters of a request, in arrival order, percent-decoded; where each came from. */
export interface RpcParams {
  query: [string, string][];
  form: [string, string][];
  /** Query and form together; a name given twice is refused before this is built. */
  all: Map<string, string>;
}

const FORM_MEDIA_TYPE = "application/x-www-form-urlencoded";

/**
 * Percent-decodes one query or form component. `+` is a space (the form encoding; Alibaba's gateway
 * decodes query strings the same way). Bytes that are not UTF-8 are refused, naming `what`, rather
 * than being stored as U+FFFD.
 */
function decodeComponent(raw: string, what: () => string): string {
  const text = raw.replace(/\+/g, " ");
  if (!text.includes("%")) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex))
        throw invalidParameter(what(), "it holds a malformed percent escape");
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(text[i] as string, "utf8")) bytes.push(b);
    }
  }
  const buf = Buffer.from(bytes);
  if (!isUtf8(buf)) throw invalidParameter(what(), "it is not valid UTF-8");
  return buf.toString("utf8");
}

function parsePairs(raw: string, source: string): [string, string][] {
  if (raw === "") return [];
  const out: [string, string][] = [];
  for (const part of raw.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const name = decodeComponent(rawName, () => `a parameter name in the ${source}`);
    if (name === "") throw invalidParameter(`(empty name) in the ${source}`, "a parameter has no name");
    const value = decodeComponent(eq < 0 ? "" : part.slice(eq + 1), () => name);
    out.push([name, value]);
  }
  return out;
}

/**
 * The request's parameters: the query string, and the body when it is a form. A body of another
 * type is not an RPC parameter carrier (the SDKs send none); it is still covered by the signature.
 */
export function parseRpcParams(rawQuery: string, contentType: string | undefined, body: Buffer): RpcParams {
  const query = parsePairs(rawQuery, "query string");
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  let form: [string, string][] = [];
  if (body.length > 0 && mediaType === FORM_MEDIA_TYPE) {
    if (!isUtf8(body)) throw invalidParameter("(request body)", "the form body is not valid UTF-8");
    form = parsePairs(body.toString("utf8"), "form body");
  }
  const all = new Map<string, string>();
  for (const [name, value] of [...query, ...form]) {
    // Two values for one name would make the signed request and the decoded input disagree.
    if (all.has(name)) throw invalidParameter(name, "it is given more than once");
    all.set(name, value);
  }
  return { query, form, all };
}

export function sendRpc(reply: FastifyReply, requestId: string, body: object): FastifyReply {
  return reply
    .code(200)
    .header("x-acs-request-id", requestId)
    .header("content-type", ALIYUN_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify({ RequestId: requestId, ...body })));
}

export interface RpcErrorBody {
  status: number;
  code: string;
  message: string;
  requestId: string;
  hostId: string;
  /** The product for the troubleshooting link, when the request got as far as naming one. */
  product?: string;
}

export function sendRpcError(reply: FastifyReply, e: RpcErrorBody): FastifyReply {
  const recommend = `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(e.code)}${
    e.product ? `&product=${encodeURIComponent(e.product)}` : ""
  }&requestId=${encodeURIComponent(e.requestId)}`;
  return reply
    .code(e.status)
    .header("x-acs-request-id", e.requestId)
    .header("content-type", ALIYUN_CONTENT_TYPE)
    .send(
      Buffer.from(
        JSON.stringify({
          RequestId: e.requestId,
          HostId: e.hostId,
          Code: e.code,
          Message: e.message,
          Recommend: recommend,
        }),
      ),
    );
}
