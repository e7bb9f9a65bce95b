import type { FastifyInstance } from "fastify";
import type { Deps } from "../deps.ts";
import { bearerMatches } from "./auth.ts";
import { parseAdminJson } from "./bulk-json.ts";
import { adminError, registerResourceRoutes } from "./resources.ts";
import { registerTagPolicyRoutes } from "./tag-policies.ts";

/** The admin API under /admin/v1/: bearer token, JSON bodies. */
export function registerAdmin(app: FastifyInstance, deps: Deps) {
  app.register(async (admin) => {
    admin.addHook("onRequest", async (request, reply) => {
      request.facts.dialect = "admin";
      request.facts.action = `${request.method} ${request.routeOptions.url ?? request.url}`;
      if (!deps.config.adminToken) {
        return adminError(
          reply,
          403,
          "AdminDisabled",
          "The admin API is disabled: the configuration sets no adminToken",
        );
      }
      if (!bearerMatches(request.headers.authorization, deps.config.adminToken)) {
        return adminError(
          reply,
          401,
          "Unauthorized",
          "A valid 'Authorization: Bearer <admin token>' header is required",
        );
      }
    });
    admin.addHook("preValidation", async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) return;
      if (request.body.length === 0) {
        request.body = undefined;
        return;
      }
      try {
        request.body = await parseAdminJson(request.body.toString("utf8"));
      } catch (err) {
        return adminError(
          reply,
          400,
          "InvalidJson",
          `The request body is not valid JSON: ${(err as Error).message}`,
        );
      }
    });
    registerResourceRoutes(admin, deps);
    registerTagPolicyRoutes(admin, deps);
  });
}
