import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Deps } from "../deps.ts";
import { POLICY_RULES, type StoredTagPolicy } from "../domain/policies.ts";
import { DomainError } from "../errors.ts";
import { adminError, zodMessage } from "./resources.ts";

const putBody = z.strictObject({
  content: z.union([z.string(), z.record(z.string(), z.unknown())]),
  targets: z.array(z.string().min(1)).max(POLICY_RULES.maxTargets).default([]),
});

function view(p: StoredTagPolicy) {
  return {
    name: p.name,
    content: JSON.parse(p.content),
    targets: p.targets,
    updatedAt: new Date(p.updatedAt).toISOString(),
  };
}

/**
 * Tag policies (AWS Organizations tag-policy JSON) and the effective policy of each member account:
 * PUT / GET / DELETE /admin/v1/tag-policies/{name}, GET /admin/v1/tag-policies,
 * GET /admin/v1/effective-tag-policies/{accountId}.
 */
export function registerTagPolicyRoutes(app: FastifyInstance, deps: Deps) {
  app.put<{ Params: { name: string } }>("/admin/v1/tag-policies/:name", async (request, reply) => {
    const body = putBody.safeParse(request.body);
    if (!body.success) return adminError(reply, 400, "InvalidRequest", zodMessage(body.error));
    try {
      const stored = await deps.tagPolicies.put(request.params.name, body.data.content, body.data.targets);
      return reply.code(200).send(view(stored));
    } catch (err) {
      if (err instanceof DomainError) return adminError(reply, 400, "InvalidPolicy", err.message);
      throw err;
    }
  });

  app.get("/admin/v1/tag-policies", async (_request, reply) => {
    return reply.code(200).send({ policies: (await deps.tagPolicies.list()).map(view) });
  });

  app.get<{ Params: { name: string } }>("/admin/v1/tag-policies/:name", async (request, reply) => {
    const found = await deps.tagPolicies.get(request.params.name);
    if (!found) return adminError(reply, 404, "NotFound", `No tag policy named ${request.params.name}`);
    return reply.code(200).send(view(found));
  });

  app.delete<{ Params: { name: string } }>("/admin/v1/tag-policies/:name", async (request, reply) => {
    if (!(await deps.tagPolicies.delete(request.params.name))) {
      return adminError(reply, 404, "NotFound", `No tag policy named ${request.params.name}`);
    }
    return reply.code(200).send({ deleted: request.params.name });
  });

  app.get<{ Params: { accountId: string } }>(
    "/admin/v1/effective-tag-policies/:accountId",
    async (request, reply) => {
      const { accountId } = request.params;
      const found = await deps.tagPolicies.effective(accountId);
      if (!found) {
        return adminError(
          reply,
          404,
          "NotFound",
          deps.policies.org
            ? `Account ${accountId} is not a member of organization ${deps.policies.org.id}`
            : "No organization is configured",
        );
      }
      return reply.code(200).send({
        accountId,
        organizationId: deps.policies.org?.id,
        path: found.path,
        effectivePolicy: found.policy,
      });
    },
  );
}
