import type { FastifyReply } from "fastify";
import { type DomainError, ServiceError } from "../errors.ts";
import type { StructureShape } from "../validation.ts";

/**
 * The AWS JSON 1.1 protocol: `POST /`, `X-Amz-Target: <prefix>.<Operation>`, JSON bodies, errors as
 * status + `{"__type", "message"}` + `x-amzn-ErrorType`, and `x-amzn-RequestId` on every response.
 */
export const AWS_JSON_CONTENT_TYPE = "application/x-amz-json-1.1";

/** Errors of the protocol itself, the same for every AWS JSON service. */
export const AWS_JSON_PROTOCOL_ERRORS: Readonly<Record<string, number>> = {
  UnknownOperationException: 400,
  SerializationException: 400,
  MissingAuthenticationTokenException: 400,
  IncompleteSignatureException: 400,
  InvalidSignatureException: 400,
  UnrecognizedClientException: 400,
  RequestEntityTooLargeException: 413,
  ServiceUnavailable: 503,
  InternalFailure: 500,
};

export interface AwsJsonContext<Deps> {
  requestId: string;
  accountId: string;
  region: string;
  partition: string;
  management: boolean;
  deps: Deps;
}

export interface AwsJsonAction<Deps, S extends StructureShape = StructureShape> {
  input: S;
  // biome-ignore lint/suspicious/noExplicitAny: each action narrows its own input through `input`.
  handler(ctx: AwsJsonContext<Deps>, input: any): Promise<object>;
}

/** One AWS JSON service: its target prefix, its SigV4 signing name and its own error catalogue. */
export interface AwsJsonService<Deps> {
  name: string;
  targetPrefix: string;
  signingName: string;
  errors: Readonly<Record<string, number>>;
  /** The code for a parameter that breaks a documented constraint. */
  validationErrorCode: string;
  /** The code for an unexpected failure inside tagd. */
  internalErrorCode: string;
  unavailableErrorCode: string;
  /** Translates a dialect-free domain failure into this service's error. */
  domainError(err: DomainError): ServiceError;
  actions: Readonly<Record<string, AwsJsonAction<Deps>>>;
}

export function splitTarget(target: string): { prefix: string; operation: string } | null {
  const dot = target.lastIndexOf(".");
  if (dot <= 0 || dot === target.length - 1) return null;
  return { prefix: target.slice(0, dot), operation: target.slice(dot + 1) };
}

export function decodeJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch (err) {
    throw new ServiceError(
      "SerializationException",
      `The request body is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ServiceError("SerializationException", "The request body must be a JSON object");
  }
  return parsed;
}

/**
 * A response body a handler has already encoded, as JSON text or as parts of it (Buffers are sent as
 * they are): large listings splice stored JSON.
 */
export class EncodedJson {
  constructor(readonly parts: string | (string | Buffer)[]) {}

  toBuffer(): Buffer {
    if (typeof this.parts === "string") return Buffer.from(this.parts);
    return Buffer.concat(this.parts.map((p) => (typeof p === "string" ? Buffer.from(p) : p)));
  }
}

const encodedOnce = new WeakMap<object, Buffer>();

/**
 * `encode(list)` as bytes, computed once per list object. The store hands out the same page object
 * again while nothing under it changed (its result caches), so a page asked again costs only what is
 * new around it (its pagination token).
 */
export function encodeOnce<T extends object>(list: T, encode: (list: T) => string): Buffer {
  let bytes = encodedOnce.get(list);
  if (!bytes) {
    bytes = Buffer.from(encode(list));
    encodedOnce.set(list, bytes);
  }
  return bytes;
}

export function sendJson(reply: FastifyReply, requestId: string, body: object): FastifyReply {
  return reply
    .code(200)
    .header("x-amzn-RequestId", requestId)
    .header("content-type", AWS_JSON_CONTENT_TYPE)
    .send(body instanceof EncodedJson ? body.toBuffer() : Buffer.from(JSON.stringify(body)));
}

export function sendJsonError(
  reply: FastifyReply,
  requestId: string,
  status: number,
  code: string,
  message: string,
): FastifyReply {
  return reply
    .code(status)
    .header("x-amzn-RequestId", requestId)
    .header("x-amzn-ErrorType", code)
    .header("content-type", AWS_JSON_CONTENT_TYPE)
    .send(Buffer.from(JSON.stringify({ __type: code, message })));
}
