import type { Infer, StructureShape } from "../../validation.ts";
import {
  openToken,
  pageToken,
  parseTypeFilters,
  requireAttachedPolicy,
  requireManagementCaller,
  type TaggingContext,
} from "./common.ts";
import { invalidParameter } from "./errors.ts";
import { PAGINATION_TOKEN } from "./shapes.ts";

export const input = {
  type: "structure",
  members: {
    TargetIdFilters: {
      type: "list",
      min: 1,
      max: 100,
      member: { type: "string", min: 6, max: 68, pattern: "[a-zA-Z0-9-]*" },
    },
    RegionFilters: { type: "list", min: 1, max: 100, member: { type: "string", min: 1, max: 256 } },
    ResourceTypeFilters: { type: "list", max: 100, member: { type: "string", min: 0, max: 256 } },
    TagKeyFilters: { type: "list", min: 1, max: 50, member: { type: "string", min: 1, max: 128 } },
    GroupBy: {
      type: "list",
      member: { type: "string", enum: ["TARGET_ID", "REGION", "RESOURCE_TYPE"] },
    },
    MaxResults: { type: "integer", min: 1, max: 1000 },
    PaginationToken: PAGINATION_TOKEN,
  },
} as const satisfies StructureShape;

/** The seed names no default page size; tagd answers 100 rows unless MaxResults says otherwise. */
export const SUMMARY_PAGE_SIZE = 100;

type Request = Infer<typeof input>;
type TargetType = "ACCOUNT" | "OU" | "ROOT";

interface Group {
  targetId: string;
  targetType: TargetType;
  region?: string;
  resourceType?: string;
  noncompliant: number;
}

/**
 * Counts of noncompliant resources across the organization, grouped as asked. Every tagged resource of
 * the member accounts under the targets is counted in its group (a group whose resources all comply
 * shows 0, as the seed's example does). Without TARGET_ID grouping the target is the organization
 * root, or each of the TargetIdFilters (an account, an OU or the root) with the resources beneath it.
 * Compliance is current — every tag and policy change updates it — so LastUpdated is when this
 * summary was generated.
 */
export async function handler(ctx: TaggingContext, req: Request) {
  requireManagementCaller(ctx);
  const engine = ctx.deps.policies;
  const groupBy = new Set(req.GroupBy ?? []);
  const typeFilters = parseTypeFilters(req.ResourceTypeFilters ?? []);
  const targets = [...new Set(req.TargetIdFilters ?? [])];
  for (const t of targets) {
    if (!engine.targetType(t)) {
      throw invalidParameter(
        `The target ID ${t} is invalid, unsupported, or doesn't exist in the organization`,
      );
    }
  }
  const limit = req.MaxResults ?? SUMMARY_PAGE_SIZE;
  const query = `GetComplianceSummary\n${JSON.stringify([
    [...groupBy].sort(),
    [...targets].sort(),
    [...new Set(req.RegionFilters ?? [])].sort(),
    typeFilters.map((f) => `${f.service}:${f.resourceType ?? "*"}`).sort(),
    [...new Set(req.TagKeyFilters ?? [])].sort(),
  ])}`;
  const cursor = openToken(ctx, req.PaginationToken, query);

  const root = engine.org?.root as string;
  /** The targets an account's counts go to, when not grouped by account. */
  const scopes: { id: string; type: TargetType }[] =
    targets.length > 0
      ? targets.map((id) => ({ id, type: engine.targetType(id) as TargetType }))
      : [{ id: root, type: "ROOT" }];
  const accounts = [...new Set(scopes.flatMap((s) => engine.accountsUnder(s.id)))].sort();
  const groups = new Map<string, Group>();
  const add = (g: Omit<Group, "noncompliant">, n: number) => {
    const key = groupKey(g);
    const seen = groups.get(key);
    if (seen) seen.noncompliant += n;
    else groups.set(key, { ...g, noncompliant: n });
  };
  if (!groupBy.has("REGION") && !groupBy.has("RESOURCE_TYPE") && !groupBy.has("TARGET_ID")) {
    for (const s of scopes) add({ targetId: s.id, targetType: s.type }, 0);
  }
  const overview = await ctx.deps.store.complianceOverview(accounts, {
    regions: req.RegionFilters,
    typeFilters,
    tagKeys: req.TagKeyFilters,
  });
  await requireAttachedPolicy(ctx, overview.policyRevision);
  for (const accountId of accounts) {
    const counts = overview.counts.get(accountId) ?? [];
    if (
      counts.length === 0 &&
      groupBy.has("TARGET_ID") &&
      !groupBy.has("REGION") &&
      !groupBy.has("RESOURCE_TYPE")
    ) {
      add({ targetId: accountId, targetType: "ACCOUNT" }, 0);
    }
    for (const c of counts) {
      const detail = {
        ...(groupBy.has("REGION") ? { region: c.region } : {}),
        ...(groupBy.has("RESOURCE_TYPE")
          ? { resourceType: c.resourceType ? `${c.service}:${c.resourceType}` : c.service }
          : {}),
      };
      if (groupBy.has("TARGET_ID")) {
        add({ targetId: accountId, targetType: "ACCOUNT", ...detail }, c.noncompliant);
        continue;
      }
      for (const s of scopes) {
        if (s.type === "ROOT" || engine.path(accountId)?.includes(s.id))
          add({ targetId: s.id, targetType: s.type, ...detail }, c.noncompliant);
      }
    }
  }
  // "If supplied, the counts are sorted by those attributes": target, Region, resource type.
  const sorted = [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const from = cursor === undefined ? 0 : sorted.findIndex(([key]) => key > cursor);
  const rest = from < 0 ? [] : sorted.slice(from);
  const page = rest.slice(0, limit);
  const more = rest.length > limit;
  const lastUpdated = new Date(ctx.deps.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    SummaryList: page.map(([, g]) => ({
      LastUpdated: lastUpdated,
      NonCompliantResources: g.noncompliant,
      ...(g.region !== undefined ? { Region: g.region } : {}),
      ...(g.resourceType !== undefined ? { ResourceType: g.resourceType } : {}),
      TargetId: g.targetId,
      TargetIdType: g.targetType,
    })),
    PaginationToken: pageToken(ctx, more ? page.at(-1)?.[0] : undefined, query),
  };
}

/** A group's sort key: target, then Region, then resource type (unit separators keep fields apart). */
function groupKey(g: Omit<Group, "noncompliant">): string {
  return [g.targetId, g.region ?? "", g.resourceType ?? ""].join("\u0001");
}
