import { randomBytes, randomUUID } from "node:crypto";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import { registerAdmin } from "./admin/index.ts";
import { adminError, mergeDuplicates } from "./admin/resources.ts";
import { AliyunRpcPipeline, aliyunRequestId, hostIdOf, isAliyunRequest } from "./aliyun-pipeline.ts";
import { KeyRing } from "./auth/identity.ts";
import { SigningKeyCache } from "./auth/sigv4.ts";
import { DEVELOPMENT_CONFIG, type TagdConfig } from "./config.ts";
import type { Deps } from "./deps.ts";
import { PolicyEngine } from "./domain/compliance.ts";
import { resolveImport } from "./domain/inventory.ts";
import { TokenSigner } from "./domain/pagination.ts";
import { catchUpCompliance, TagPolicies } from "./domain/policy-admin.ts";
import { ReportWorker } from "./domain/reports.ts";
import { AwsJsonPipeline } from "./pipeline.ts";
import { ALIYUN_PROTOCOL_ERRORS, sendRpcError } from "./protocols/aliyun-rpc.ts";
import { AWS_JSON_CONTENT_TYPE, AWS_JSON_PROTOCOL_ERRORS, sendJsonError } from "./protocols/aws-json.ts";
import { RequestLog } from "./request-log.ts";
import { aliKmsProduct } from "./services/alikms/index.ts";
import { ecsProduct } from "./services/ecs/index.ts";
import { kmsService } from "./services/kms/index.ts";
import { taggingService } from "./services/tagging/index.ts";
import { openStore } from "./store/open.ts";
import { walBufferState } from "./store/sqlite/wal-buffer.ts";
import type { TagStore } from "./store/store.ts";

export interface ServerOptions {
  /** The parsed configuration; the development identity when absent. */
  config?: TagdConfig;
  dataDir: string;
  /** PostgreSQL instead of the embedded SQLite. */
  databaseUrl?: string;
  /** PostgreSQL schema for tagd's tables (tests); default: the connection's search_path. */
  schema?: string;
  /** A pino logger configuration, or false for silence (tests). */
  logger?: FastifyServerOptions["logger"];
  /** The largest API request body, in bytes. */
  bodyLimit?: number;
  now?: () => number;
  /** Whether this instance writes compliance reports (default true); false leaves them to others. */
  reportWorker?: boolean;
  /** How long a report's claim lasts unrenewed before another instance takes it over (ms). */
  reportLeaseMs?: number;
  /** SQLite: other processes of this tagd write the file too (a worker of `--workers`). */
  sharedFile?: boolean;
  /** SQLite: gather WAL writes with the native extension when it was built (default true). */
  sqliteWalBuffer?: boolean;
}

export interface Tagd {
  app: FastifyInstance;
  store: TagStore;
  deps: Deps;
  /** Stops accepting connections, finishes in-flight requests, closes the store. */
  close(): Promise<void>;
}

/** Well above the largest legal request (GetResources with 100 ARNs of 1011 characters). */
export const API_BODY_LIMIT = 1024 * 1024;

/**
 * A request Node's HTTP parser refuses (bad framing, oversized headers, a body on a GET without a
 * length) never becomes a Fastify request; it still gets an AWS-format error and a request id.
 */
function rejectMalformedHttp(err: Error & { code?: string }, socket: import("node:net").Socket): void {
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const id = randomUUID();
  const tooLarge = err.code === "HPE_HEADER_OVERFLOW";
  const code = "SerializationException";
  const body = JSON.stringify({
    __type: code,
    message: tooLarge
      ? "The request headers are too large"
      : `Malformed HTTP request (${err.code ?? "parse error"})`,
  });
  socket.end(
    `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\n` +
      `content-type: ${AWS_JSON_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-amzn-RequestId: ${id}\r\nx-request-id: ${id}\r\nx-amzn-ErrorType: ${code}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export async function createServer(options: ServerOptions): Promise<Tagd> {
  const config = options.config ?? DEVELOPMENT_CONFIG;
  const store = await openStore(options);
  await store.migrate();
  const secret =
    config.paginationSecret ??
    (await store.getOrSetMeta("pagination_secret", randomBytes(32).toString("hex")));
  const now = options.now ?? Date.now;
  const policies = new PolicyEngine(config);
  store.setPolicySource(policies);
  const reports = new ReportWorker({
    store,
    policies,
    config,
    dataDir: options.dataDir,
    now,
    leaseMs: options.reportLeaseMs,
  });
  const deps: Deps = {
    store,
    tokens: new TokenSigner(secret, options.now),
    inventory: config.inventory,
    config,
    policies,
    tagPolicies: new TagPolicies(store, policies, now),
    reports: { kick: () => options.reportWorker !== false && reports.kick() },
    now,
  };
  await catchUpCompliance(store, policies);
  if (config.resources.length > 0)
    await store.upsertResources(mergeDuplicates(config.resources.map(resolveImport)));

  /** Errors raised outside a handler's own replies, in the wire format of the path's dialect. */
  function sendError(
    err: { statusCode?: number; code?: string; message: string },
    request: FastifyRequest,
    reply: FastifyReply,
  ) {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) request.log.error({ err }, "unhandled error");
    const message =
      status === 500 ? "The request processing failed because of an unknown error." : err.message;
    if (request.url.startsWith("/admin/"))
      return adminError(reply, status, err.code ?? "InternalError", message);
    if (isAliyunRequest(request)) {
      const code =
        err.code === "FST_ERR_CTP_BODY_TOO_LARGE"
          ? "RequestEntityTooLarge"
          : status === 500
            ? "InternalError"
            : "InvalidParameter";
      return sendRpcError(reply, {
        status: ALIYUN_PROTOCOL_ERRORS[code]?.status ?? status,
        code,
        message,
        requestId: aliyunRequestId(request),
        hostId: hostIdOf(request),
      });
    }
    const code =
      err.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? "RequestEntityTooLargeException"
        : err.code === "FST_ERR_BAD_URL"
          ? "UnknownOperationException"
          : status === 500
            ? "InternalFailure"
            : "SerializationException";
    return sendJsonError(reply, request.id, AWS_JSON_PROTOCOL_ERRORS[code] ?? status, code, message);
  }

  const app = Fastify({
    logger: options.logger ?? false,
    logController: new RequestLog(),
    bodyLimit: options.bodyLimit ?? API_BODY_LIMIT,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    return503OnClosing: true,
    clientErrorHandler: rejectMalformedHttp,
    // A URL that cannot be decoded never reaches a route or the onRequest hook.
    frameworkErrors: (err, request, reply) => {
      request.facts = { dialect: "unknown" };
      reply.header("x-request-id", request.id);
      return sendError(err, request, reply);
    },
  });
  if (!options.databaseUrl) {
    const wal = walBufferState();
    if (wal?.active) app.log.info({ library: wal.library }, "SQLite WAL buffer loaded");
    else
      app.log.warn(
        `SQLite WAL buffer off: ${wal ? wal.reason : "--sqlite-wal-buffer off"}; every WAL page costs two system calls`,
      );
  }
  app.decorateRequest("facts", null as never);
  app.addHook("onRequest", (request, reply, done) => {
    // The routes name the dialect for sure; this is what a request failing before them is logged as.
    request.facts = {
      dialect: request.url.startsWith("/admin/")
        ? "admin"
        : typeof request.headers["x-amz-target"] === "string"
          ? "aws-json"
          : request.headers["x-acs-action"] !== undefined
            ? "aliyun-rpc"
            : "unknown",
    };
    reply.header("x-request-id", request.id);
    done();
  });
  // Once close() has begun, a keep-alive connection is closed after its in-flight response: left
  // open, it would hold close() up until the client or the keep-alive timeout (72 s) ends it.
  let closing = false;
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  // Every body is kept raw: signatures are computed over the exact bytes. Each dialect decodes its own.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const pipeline = new AwsJsonPipeline(
    [taggingService, kmsService],
    new KeyRing(config),
    new SigningKeyCache(),
    deps,
  );

  const aliyun = new AliyunRpcPipeline([ecsProduct, aliKmsProduct], new KeyRing(config), deps);

  app.post("/", async (request, reply) => {
    const target = request.headers["x-amz-target"];
    if (typeof target === "string") return pipeline.handle(request, reply, target);
    if (isAliyunRequest(request)) return aliyun.handle(request, reply);
    request.facts.dialect = "unknown";
    return sendJsonError(
      reply,
      request.id,
      400,
      "UnknownOperationException",
      "Missing X-Amz-Target header: the operation is unknown",
    );
  });

  // Alibaba's RPC style also takes GET, every parameter in the query string.
  app.get("/", async (request, reply) => {
    if (isAliyunRequest(request)) return aliyun.handle(request, reply);
    return sendJsonError(reply, request.id, 404, "UnknownOperationException", `No route GET ${request.url}`);
  });

  app.get("/health", async (request, reply) => {
    request.facts.dialect = "health";
    try {
      await store.ping();
      return reply.send({ status: "ok", engine: store.engine });
    } catch {
      return reply.code(503).send({ status: "unavailable", engine: store.engine });
    }
  });

  registerAdmin(app, deps);

  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith("/admin/"))
      return adminError(reply, 404, "NotFound", `No route ${request.method} ${request.url}`);
    if (isAliyunRequest(request)) {
      return sendRpcError(reply, {
        status: 404,
        code: "InvalidAction.NotFound",
        message: ALIYUN_PROTOCOL_ERRORS["InvalidAction.NotFound"]?.message ?? "",
        requestId: aliyunRequestId(request),
        hostId: hostIdOf(request),
      });
    }
    return sendJsonError(
      reply,
      request.id,
      404,
      "UnknownOperationException",
      `No route ${request.method} ${request.url}`,
    );
  });

  app.setErrorHandler(sendError);

  await app.ready();
  if (options.reportWorker !== false) reports.start();
  return {
    app,
    store,
    deps,
    async close() {
      closing = true;
      await app.close();
      await reports.stop();
      await store.close();
    },
  };
}
