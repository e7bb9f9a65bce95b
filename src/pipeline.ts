import { isUtf8 } from "node:buffer";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { KeyRing } from "./auth/identity.ts";
import { type SigningKeyCache, SigV4Error, type SigV4Request, verifySigV4 } from "./auth/sigv4.ts";
import type { Deps } from "./deps.ts";
import { partitionOfRegion } from "./domain/aws-services.ts";
import { DomainError, ServiceError } from "./errors.ts";
import {
  AWS_JSON_PROTOCOL_ERRORS,
  type AwsJsonAction,
  type AwsJsonService,
  decodeJsonBody,
  sendJson,
  sendJsonError,
  splitTarget,
} from "./protocols/aws-json.ts";
import { StoreUnavailableError } from "./store/errors.ts";
import { type ValidationErrors, validate } from "./validation.ts";

/** What the request log line reports besides status and duration. */
export interface RequestFacts {
  dialect?: string;
  action?: string;
  account?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    facts: RequestFacts;
  }
}

const REGION_RE = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The media types an AWS JSON body may be declared as. The SDKs and the CLI send
 * `application/x-amz-json-1.1`; like DynamoDB (as dynalite records it), a body under any other type,
 * or none, is not an operation of this protocol.
 */
const JSON_MEDIA_TYPES = new Set([
  "application/x-amz-json-1.1",
  "application/x-amz-json-1.0",
  "application/json",
]);

function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** Header names lower-cased, repeats kept in order: what SigV4's canonical headers need. */
export function rawHeaderMap(rawHeaders: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const list = out.get(name);
    if (list) list.push(rawHeaders[i + 1] as string);
    else out.set(name, [rawHeaders[i + 1] as string]);
  }
  return out;
}

export function sigV4Request(request: FastifyRequest): SigV4Request {
  const url = request.raw.url ?? "/";
  const q = url.indexOf("?");
  return {
    method: request.method,
    rawPath: q < 0 ? url : url.slice(0, q),
    rawQuery: q < 0 ? "" : url.slice(q + 1),
    headers: rawHeaderMap(request.raw.rawHeaders),
    body: bodyOf(request),
  };
}

export class AwsJsonPipeline {
  private readonly byPrefix: Map<string, AwsJsonService<Deps>>;
  private readonly errorMakers = new Map<AwsJsonService<Deps>, ValidationErrors>();

  constructor(
    services: AwsJsonService<Deps>[],
    private readonly keys: KeyRing,
    private readonly signingKeys: SigningKeyCache,
    private readonly deps: Deps,
  ) {
    this.byPrefix = new Map(services.map((s) => [s.targetPrefix, s]));
  }

  /** The ordered stages: route by target → authenticate → decode → validate → dispatch → encode. */
  async handle(request: FastifyRequest, reply: FastifyReply, target: string): Promise<FastifyReply> {
    request.facts.dialect = "aws-json";
    const requestId = request.id;
    const split = splitTarget(target);
    const service = split ? this.byPrefix.get(split.prefix) : undefined;
    if (!split || !service)
      return this.fail(reply, requestId, service, "UnknownOperationException", `Unknown operation ${target}`);
    request.facts.action = `${service.name}.${split.operation}`;
    const body = bodyOf(request);
    const contentType = request.headers["content-type"];
    const mediaType = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
    if (body.length > 0 && !JSON_MEDIA_TYPES.has(mediaType)) {
      return this.fail(
        reply,
        requestId,
        service,
        "UnknownOperationException",
        contentType === undefined
          ? "The request has a body but no Content-Type: AWS JSON 1.1 requests carry 'Content-Type: application/x-amz-json-1.1'"
          : `Unsupported Content-Type '${contentType}': AWS JSON 1.1 requests carry 'Content-Type: application/x-amz-json-1.1'`,
      );
    }
    try {
      const auth = verifySigV4(
        sigV4Request(request),
        (id) => this.keys.find("aws", id)?.secret,
        this.signingKeys,
        this.deps.now(),
      );
      if (auth.service !== service.signingName) {
        throw new SigV4Error(
          "InvalidSignatureException",
          `Credential should be scoped to correct service: '${service.signingName}'.`,
        );
      }
      if (!REGION_RE.test(auth.region)) {
        throw new SigV4Error(
          "InvalidSignatureException",
          `Credential should be scoped to a valid region, not '${auth.region}'.`,
        );
      }
      const principal = this.keys.find("aws", auth.accessKeyId);
      if (!principal)
        throw new SigV4Error(
          "UnrecognizedClientException",
          "The security token included in the request is invalid.",
        );
      request.facts.account = principal.accountId;

      // An own property only: `constructor` or `toString` is not an operation.
      const action = Object.hasOwn(service.actions, split.operation)
        ? service.actions[split.operation]
        : undefined;
      if (!action)
        return this.fail(
          reply,
          requestId,
          service,
          "UnknownOperationException",
          `Unknown operation ${target}`,
        );
      // JSON text is UTF-8 (RFC 8259); decoding other bytes leniently would store U+FFFD in tags.
      if (!isUtf8(body))
        throw new ServiceError("SerializationException", "The request body is not valid UTF-8");
      const input = this.validateInput(request, action.input, decodeJsonBody(body), service);
      const result = await action.handler(
        {
          requestId,
          accountId: principal.accountId,
          region: auth.region,
          partition: partitionOfRegion(auth.region),
          management: principal.management,
          deps: this.deps,
        },
        input,
      );
      return sendJson(reply, requestId, result);
    } catch (err) {
      if (err instanceof SigV4Error) return this.fail(reply, requestId, service, err.code, err.message);
      if (err instanceof StoreUnavailableError) {
        request.log.warn({ err }, "store unavailable");
        return this.fail(
          reply,
          requestId,
          service,
          service.unavailableErrorCode,
          "The service is temporarily unavailable. Retry the request.",
          503,
        );
      }
      const known = err instanceof DomainError ? service.domainError(err) : err;
      if (known instanceof ServiceError)
        return this.fail(reply, requestId, service, known.code, known.message, known.status);
      request.log.error({ err }, "unexpected failure");
      return this.fail(
        reply,
        requestId,
        service,
        service.internalErrorCode,
        "The request processing failed because of an unknown error.",
        500,
      );
    }
  }

  /**
   * An error answer. A method rather than a closure made per request, as are the validation error
   * makers (one set per service): tsx keeps function names, so every closure made costs a
   * defineProperty (~0.7 µs).
   */
  private fail(
    reply: FastifyReply,
    requestId: string,
    service: AwsJsonService<Deps> | undefined,
    code: string,
    message: string,
    status?: number,
  ): FastifyReply {
    return sendJsonError(
      reply,
      requestId,
      status ?? service?.errors[code] ?? AWS_JSON_PROTOCOL_ERRORS[code] ?? 400,
      code,
      message,
    );
  }

  private validationErrors(service: AwsJsonService<Deps>): ValidationErrors {
    let made = this.errorMakers.get(service);
    if (!made) {
      made = {
        typeError: (m) => new ServiceError("SerializationException", m),
        constraintError: (m) => new ServiceError(service.validationErrorCode, m),
      };
      this.errorMakers.set(service, made);
    }
    return made;
  }

  private validateInput(
    request: FastifyRequest,
    shape: AwsJsonAction<Deps>["input"],
    body: unknown,
    service: AwsJsonService<Deps>,
  ): unknown {
    try {
      return validate(shape, body, this.validationErrors(service));
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      // Whatever fails while the decoded body is checked was caused by the body: a value that no
      // conversion to text survives (`{"toString": 1}`), arrays nested deeper than the stack. Still
      // the client's mistake, so still a 4xx.
      request.log.warn({ err }, "validation failed on a hostile body");
      throw new ServiceError(
        "SerializationException",
        "The request body could not be deserialized: it holds values of the wrong type or nested too deeply",
      );
    }
  }
}
