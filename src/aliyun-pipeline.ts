import type { FastifyReply, FastifyRequest } from "fastify";
import { parseAliyunAuth, signatureMatches } from "./auth/aliyun-signature.ts";
import type { KeyRing } from "./auth/identity.ts";
import { checkNonce, checkTimestamp } from "./auth/replay.ts";
import type { Deps } from "./deps.ts";
import { DomainError, ServiceError } from "./errors.ts";
import { rawHeaderMap } from "./pipeline.ts";
import { decodeParams } from "./protocols/aliyun-params.ts";
import {
  invalidParameter,
  missingParameter,
  parseRpcParams,
  protocolError,
  type RpcParams,
  type RpcProduct,
  sendRpc,
  sendRpcError,
} from "./protocols/aliyun-rpc.ts";
import { StoreUnavailableError } from "./store/errors.ts";

function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function splitUrl(request: FastifyRequest): { rawPath: string; rawQuery: string } {
  const url = request.raw.url ?? "/";
  const q = url.indexOf("?");
  return { rawPath: q < 0 ? url : url.slice(0, q), rawQuery: q < 0 ? "" : url.slice(q + 1) };
}

/** `HostId` in error bodies: the endpoint the client called, as Alibaba answers (`ecs.cn-hangzhou.aliyuncs.com`). */
export function hostIdOf(request: FastifyRequest): string {
  const host = request.headers.host;
  return typeof host === "string" && /^[\x21-\x7e]{1,255}$/.test(host) ? host : "tagd";
}

/** Alibaba's request ids are upper-case UUIDs; tagd's own id, so logs and answers agree. */
export function aliyunRequestId(request: FastifyRequest): string {
  return request.id.toUpperCase();
}

/**
 * Whether a request is one of Alibaba's RPC dialect: an `x-acs-action` header (ACS3), or an
 * `Action` parameter in the query string or a form body (v1). An `X-Amz-Target` header makes it an
 * AWS request whatever else it carries: AWS detection comes first, on every route.
 */
export function isAliyunRequest(request: FastifyRequest): boolean {
  if (request.headers["x-amz-target"] !== undefined) return false;
  if (request.headers["x-acs-action"] !== undefined) return true;
  const { rawQuery } = splitUrl(request);
  if (/(^|&)Action=/.test(rawQuery)) return true;
  const type = request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  return (
    type === "application/x-www-form-urlencoded" && /(^|&)Action=/.test(bodyOf(request).toString("latin1"))
  );
}

/**
 * The Alibaba RPC stages, in order: parameters → route (version → product, action) → authenticate
 * (key, clock, signature, nonce) → decode by the action's table → handler → encode. Every failure is
 * an Alibaba error body with its documented status.
 */
export class AliyunRpcPipeline {
  private readonly byVersion: Map<string, RpcProduct<Deps>>;

  constructor(
    products: RpcProduct<Deps>[],
    private readonly keys: KeyRing,
    private readonly deps: Deps,
  ) {
    this.byVersion = new Map(products.map((p) => [p.version, p]));
  }

  async handle(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    request.facts.dialect = "aliyun-rpc";
    const requestId = aliyunRequestId(request);
    let product: RpcProduct<Deps> | undefined;
    try {
      const { rawPath, rawQuery } = splitUrl(request);
      const body = bodyOf(request);
      const params = parseRpcParams(rawQuery, request.headers["content-type"], body);
      const { action: actionName, version } = this.route(request, params);
      product = this.byVersion.get(version);
      if (!product)
        throw protocolError("InvalidVersion", `Specified parameter Version is not valid: '${version}'.`);
      request.facts.action = `${product.name}.${actionName}`;
      const format = params.all.get("Format");
      if (format !== undefined && format.toLowerCase() !== "json")
        throw invalidParameter("Format", "tagd answers in JSON only");
      const action = Object.hasOwn(product.actions, actionName) ? product.actions[actionName] : undefined;
      if (!action) throw protocolError("InvalidAction.NotFound");

      const auth = parseAliyunAuth({
        method: request.method,
        rawPath,
        headers: rawHeaderMap(request.raw.rawHeaders),
        query: params.query,
        form: params.form,
        body,
      });
      const key = this.keys.find("alibaba", auth.accessKeyId);
      if (!key) throw protocolError("InvalidAccessKeyId.NotFound");
      const now = this.deps.now();
      const requestTime = checkTimestamp(auth.timestamp, now);
      if (!signatureMatches(auth, key.secret)) {
        // Alibaba names the string it signed, so a client can see where its own differs.
        throw protocolError(
          "SignatureDoesNotMatch",
          `Specified signature is not matched with our calculation. server string to sign is:${auth.stringToSign}`,
        );
      }
      // Only after the signature: an unsigned request must not use up somebody's nonce.
      const nonceChecked = checkNonce(this.deps.store, key.accessKeyId, auth.nonce, requestTime, now);
      const run = () =>
        action.handler(
          { requestId, accountId: key.accountId, accessKeyId: key.accessKeyId, deps: this.deps },
          decodeParams(action.params, params.all),
        );
      let result: object;
      if (action.readOnly) {
        // A read changes nothing, so it need not wait for the nonce: its store reads go out with the
        // nonce's statement (one round trip on PostgreSQL, not two). The nonce's verdict still comes
        // first: a replay is answered SignatureNonceUsed, never with what the read found.
        const [nonce, read] = await Promise.allSettled([nonceChecked, Promise.resolve().then(run)]);
        if (nonce.status === "rejected") throw nonce.reason;
        request.facts.account = key.accountId;
        if (read.status === "rejected") throw read.reason;
        result = read.value;
      } else {
        await nonceChecked;
        request.facts.account = key.accountId;
        result = await run();
      }
      return sendRpc(reply, requestId, result);
    } catch (err) {
      const fail = (e: ServiceError) =>
        sendRpcError(reply, {
          status: e.status ?? 400,
          code: e.code,
          message: e.message,
          requestId,
          hostId: hostIdOf(request),
          product: product?.name,
        });
      if (err instanceof ServiceError) return fail(err);
      if (err instanceof DomainError && product) return fail(product.domainError(err));
      if (err instanceof StoreUnavailableError) {
        request.log.warn({ err }, "store unavailable");
        // The product's own answer where it documents one (ECS: 500), else the gateway's 503.
        return fail(
          product
            ? product.domainError(new DomainError("StoreUnavailable", err.message))
            : protocolError("ServiceUnavailable"),
        );
      }
      request.log.error({ err }, "unexpected failure");
      return fail(protocolError("InternalError"));
    }
  }

  /**
   * The action and version: the `x-acs-action` / `x-acs-version` headers (ACS3, signed there), or the
   * `Action` / `Version` parameters (v1, signed there). Both given and different is refused: the
   * request would run one action while the signature vouches for another.
   */
  private route(request: FastifyRequest, params: RpcParams): { action: string; version: string } {
    const pick = (header: string, param: string): string => {
      const h = request.headers[header];
      if (Array.isArray(h)) throw invalidParameter(header, "the header is given more than once");
      const fromHeader = typeof h === "string" ? h : undefined;
      const fromParam = params.all.get(param);
      if (fromHeader !== undefined && fromParam !== undefined && fromHeader !== fromParam) {
        throw invalidParameter(
          param,
          `the ${header} header says '${fromHeader}' and ${param} says '${fromParam}'`,
        );
      }
      const value = fromHeader ?? fromParam;
      if (value === undefined || value === "") throw missingParameter(param);
      return value;
    };
    return { action: pick("x-acs-action", "Action"), version: pick("x-acs-version", "Version") };
  }
}
