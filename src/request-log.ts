import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/**
 * One structured line per request: request id (the logger's `reqId`), dialect, action, account,
 * status and duration. Headers and bodies are never logged, so neither secrets nor signatures are.
 */
export class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    // Skip building the line when info is off (the benchmark runs at warn); pino has isLevelEnabled.
    const log = reply.log as FastifyReply["log"] & { isLevelEnabled?: (level: string) => boolean };
    if (!error && log.isLevelEnabled?.("info") === false) return;
    const facts = request.facts ?? {};
    const line = {
      dialect: facts.dialect,
      action: facts.action,
      account: facts.account,
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    };
    if (error) reply.log.error({ ...line, err: error }, "request");
    else reply.log.info(line, "request");
  }
}
