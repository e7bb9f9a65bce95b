import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import { innerMap } from "../bounded-map.ts";
import { resourceInputSchema } from "../config.ts";
import type { Deps } from "../deps.ts";
import { parseArn } from "../domain/arn.ts";
import { type ResourceInput, resolveImport, resolveResourceInput } from "../domain/inventory.ts";
import type { ResourceImport, ResourceRecord } from "../domain/resource.ts";
import { DomainError } from "../errors.ts";
import { collectAfterBulk } from "../memory.ts";
import type { ResourceKey } from "../store/store.ts";
import { nextTurn } from "../turns.ts";

/** The largest bulk call: well above the 10,000 the contract promises, inside the admin body limit. */
export const MAX_BULK = 100_000;
export const ADMIN_BODY_LIMIT = 64 * 1024 * 1024;
/** Entries validated, or resolved, between two turns of the event loop in a bulk call. */
const RESOLVE_SLICE = 1000;

/** A bulk body's shape; its entries are checked against `bulkEntries` a slice at a time. */
const bulkBody = z.strictObject({
  resources: z.array(z.unknown()).min(1).max(MAX_BULK),
});
const bulkEntries = z.array(resourceInputSchema);
/** The whole body in one schema: for the message when its shape is wrong. */
const bulkWhole = z.strictObject({ resources: bulkEntries.min(1).max(MAX_BULK) });
/** Problems reported for one call, at most. */
const MAX_PROBLEMS = 20;

const listQuery = z.strictObject({
  accountId: z.string().optional(),
  cloud: z.enum(["aws", "alibaba"]).optional(),
  region: z.string().optional(),
  service: z.string().optional(),
  resourceType: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  nextToken: z.string().optional(),
});

export function adminError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).send({ error: { code, message } });
}

export function zodMessage(err: { issues: readonly z.core.$ZodIssue[] }): string {
  return err.issues
    .slice(0, MAX_PROBLEMS)
    .map(
      (i) =>
        `${
          i.path
            .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
            .join("")
            .replace(/^\./, "") || "body"
        }: ${i.message}`,
    )
    .join("; ");
}

/**
 * A bulk body checked as one schema would, its entries RESOLVE_SLICE at a time with a turn of the
 * event loop between two (a 10,000-entry call took ~25 ms at once). Reports the first MAX_PROBLEMS
 * problems, in order, with their paths from the body (`resources[12].arn`).
 */
async function validateBulk(
  body: unknown,
): Promise<{ resources: ResourceInput[]; message?: undefined } | { message: string }> {
  const shape = bulkBody.safeParse(body);
  if (!shape.success) {
    // Checked whole, at once, as the message then names the entries' problems beside the shape's.
    const whole = bulkWhole.safeParse(body);
    return { message: zodMessage(whole.success ? shape.error : whole.error) };
  }
  const entries = shape.data.resources;
  const resources: ResourceInput[] = [];
  const issues: z.core.$ZodIssue[] = [];
  for (let at = 0; at < entries.length && issues.length < MAX_PROBLEMS; at += RESOLVE_SLICE) {
    if (at > 0) await nextTurn();
    const slice = bulkEntries.safeParse(entries.slice(at, at + RESOLVE_SLICE));
    if (slice.success) {
      for (const entry of slice.data) resources.push(entry);
      continue;
    }
    for (const issue of slice.error.issues) {
      const [index, ...rest] = issue.path;
      issues.push({ ...issue, path: ["resources", at + Number(index), ...rest] });
    }
  }
  return issues.length > 0 ? { message: zodMessage({ issues }) } : { resources };
}

/**
 * One entry per resource, in first-seen order; a later entry's resourceGroupId, state and tag values
 * win, as a second call would. PostgreSQL refuses an upsert that touches one row twice.
 */
export function mergeDuplicates(items: ResourceImport[]): ResourceImport[] {
  // Positions in `merged` by account, then name: no joined string to build and hash per entry.
  const byAccount = new Map<string, Map<string, number>>();
  const merged: ResourceImport[] = [];
  /** Positions whose entry (and tag list) was made here, so a further duplicate extends it in place. */
  const combined = new Set<number>();
  for (const item of items) {
    const r = item.resource;
    const byName = innerMap(byAccount, r.accountId);
    const at = byName.get(r.name);
    const seen = at === undefined ? undefined : merged[at];
    if (at === undefined || !seen) {
      byName.set(r.name, merged.length);
      merged.push(item);
      continue;
    }
    const resource = {
      ...seen.resource,
      resourceGroupId: r.resourceGroupId ?? seen.resource.resourceGroupId,
      state: r.state ?? seen.resource.state,
    };
    if (combined.has(at)) {
      seen.resource = resource;
      seen.tags?.push(...(item.tags ?? []));
      continue;
    }
    combined.add(at);
    merged[at] = { ...seen, resource, tags: [...(seen.tags ?? []), ...(item.tags ?? [])] };
  }
  return merged;
}

export function toView(r: ResourceRecord) {
  return {
    arn: r.name,
    cloud: r.cloud,
    accountId: r.accountId,
    region: r.region,
    service: r.service,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    resourceGroupId: r.resourceGroupId,
    state: r.state,
  };
}

export function registerResourceRoutes(app: FastifyInstance, deps: Deps) {
  const accounts = new Map(deps.config.accounts.map((a) => [a.id, a.cloud]));

  /**
   * All or nothing: every entry is resolved before anything is written. In slices of RESOLVE_SLICE
   * entries with a turn of the event loop between two, so that a large call does not hold up the
   * requests that arrive meanwhile (~5 ms a slice).
   */
  async function resolveAll(
    inputs: ResourceInput[],
  ): Promise<{ records: ResourceImport[]; problems: string[] }> {
    const records: ResourceImport[] = [];
    const problems: string[] = [];
    for (const [i, input] of inputs.entries()) {
      if (i > 0 && i % RESOLVE_SLICE === 0) await nextTurn();
      try {
        const item = resolveImport(input);
        const record = item.resource;
        const cloud = accounts.get(record.accountId);
        if (cloud === undefined)
          throw new DomainError("InvalidParameter", `account ${record.accountId} is not configured`);
        if (cloud !== record.cloud) {
          throw new DomainError("InvalidParameter", `account ${record.accountId} is an ${cloud} account`);
        }
        records.push(item);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        if (problems.length < MAX_PROBLEMS) problems.push(`resources[${i}]: ${err.message}`);
      }
    }
    return { records, problems };
  }

  app.post("/admin/v1/resources", { bodyLimit: ADMIN_BODY_LIMIT }, async (request, reply) => {
    const body = await validateBulk(request.body);
    // A bulk call is megabytes of objects: each form is let go as soon as the next one exists, so
    // an import of a million resources keeps one call's worth at a time (peak RSS).
    request.body = undefined;
    if (body.message !== undefined) return adminError(reply, 400, "InvalidRequest", body.message);
    const { records, problems } = await resolveAll(body.resources);
    body.resources = [];
    if (problems.length > 0) return adminError(reply, 400, "InvalidResource", problems.join("; "));
    try {
      return reply.code(200).send(await deps.store.upsertResources(mergeDuplicates(records)));
    } catch (err) {
      if (err instanceof DomainError) return adminError(reply, 400, "InvalidResource", err.message);
      throw err;
    } finally {
      collectAfterBulk(records.length);
    }
  });

  app.delete("/admin/v1/resources", { bodyLimit: ADMIN_BODY_LIMIT }, async (request, reply) => {
    const body = await validateBulk(request.body);
    request.body = undefined;
    if (body.message !== undefined) return adminError(reply, 400, "InvalidRequest", body.message);
    const keys: ResourceKey[] = [];
    const problems: string[] = [];
    body.resources.forEach((input, i) => {
      // Deleting needs only the account and the name; a region-less ARN needs no region beside it.
      if (input.arn !== undefined) {
        const parsed = parseArn(input.arn);
        const accountId = parsed.ok ? parsed.value.accountId || input.accountId : undefined;
        if (!parsed.ok) problems.push(`resources[${i}]: arn ${input.arn} ${parsed.reason}`);
        else if (!accountId)
          problems.push(`resources[${i}]: arn ${input.arn} names no account: give "accountId"`);
        else keys.push({ accountId, name: input.arn });
        return;
      }
      try {
        const r = resolveResourceInput(input);
        keys.push({ accountId: r.accountId, name: r.name });
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        problems.push(`resources[${i}]: ${err.message}`);
      }
    });
    if (problems.length > 0)
      return adminError(reply, 400, "InvalidResource", problems.slice(0, MAX_PROBLEMS).join("; "));
    const unique = new Map(keys.map((k) => [`${k.accountId}\n${k.name}`, k]));
    const deleted = await deps.store.deleteResources([...unique.values()]);
    return reply.code(200).send({ deleted });
  });

  app.get("/admin/v1/resources", async (request, reply) => {
    const query = listQuery.safeParse(request.query);
    if (!query.success) return adminError(reply, 400, "InvalidRequest", zodMessage(query.error));
    const { nextToken, limit, ...filters } = query.data;
    const binding = { accountId: "admin", region: "", query: JSON.stringify(filters) };
    let cursor: string | undefined;
    try {
      cursor = nextToken ? deps.tokens.open(nextToken, binding) : undefined;
    } catch {
      return adminError(
        reply,
        400,
        "InvalidNextToken",
        "nextToken is invalid or was issued for other filters",
      );
    }
    const page = await deps.store.listInventory({ ...filters, limit, cursor });
    return reply.code(200).send({
      resources: page.items.map(toView),
      nextToken: page.cursor === undefined ? null : deps.tokens.issue(binding, page.cursor),
    });
  });
}
