import type { TaggedResource } from "../../domain/resource.ts";
import { EncodedJson, encodeOnce } from "../../protocols/aws-json.ts";
import type { TagFilterSpec, TypeFilterSpec } from "../../store/store.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import {
  compliance,
  mappingJson,
  openToken,
  pageToken,
  parseArns,
  parseTypeFilters,
  type TaggingContext,
} from "./common.ts";
import { invalidParameter } from "./errors.ts";
import { ARN, PAGINATION_TOKEN, TAG_KEY } from "./shapes.ts";

export const input = {
  type: "structure",
  members: {
    PaginationToken: PAGINATION_TOKEN,
    TagFilters: {
      type: "list",
      max: 50,
      member: {
        type: "structure",
        members: {
          Key: TAG_KEY,
          Values: { type: "list", max: 256, member: { type: "string", min: 0, max: 256 } },
        },
      },
    },
    ResourcesPerPage: { type: "integer" },
    TagsPerPage: { type: "integer" },
    ResourceTypeFilters: { type: "list", max: 100, member: { type: "string", min: 0, max: 256 } },
    IncludeComplianceDetails: { type: "boolean" },
    ExcludeCompliantResources: { type: "boolean" },
    ResourceARNList: { type: "list", member: ARN, min: 1, max: 100 },
  },
} as const satisfies StructureShape;

/** Limits the seed states in prose rather than in the shapes. */
const RULES = {
  resourcesPerPage: { min: 1, max: 100, default: 50 },
  tagsPerPage: { min: 100, max: 500 },
  // "A request can include up to 50 keys, and each key can include up to 20 values."
  valuesPerTagFilter: 20,
} as const;

type Request = Infer<typeof input>;

export async function handler(ctx: TaggingContext, req: Request) {
  if (req.ExcludeCompliantResources && !req.IncludeComplianceDetails) {
    throw invalidParameter("ExcludeCompliantResources can only be set when IncludeComplianceDetails is true");
  }
  const includeCompliance = req.IncludeComplianceDetails === true;
  if (req.ResourceARNList !== undefined) return byArnList(ctx, req, req.ResourceARNList, includeCompliance);

  const perPage = req.ResourcesPerPage ?? RULES.resourcesPerPage.default;
  if (perPage < RULES.resourcesPerPage.min || perPage > RULES.resourcesPerPage.max) {
    throw invalidParameter(
      `ResourcesPerPage must be between ${RULES.resourcesPerPage.min} and ${RULES.resourcesPerPage.max}`,
    );
  }
  const tagsPerPage = req.TagsPerPage;
  if (
    tagsPerPage !== undefined &&
    (tagsPerPage < RULES.tagsPerPage.min || tagsPerPage > RULES.tagsPerPage.max)
  ) {
    throw invalidParameter(
      `TagsPerPage must be between ${RULES.tagsPerPage.min} and ${RULES.tagsPerPage.max}`,
    );
  }
  const tagFilters = parseTagFilters(req.TagFilters ?? []);
  const typeFilters = parseTypeFilters(req.ResourceTypeFilters ?? []);
  const excludeCompliant = req.ExcludeCompliantResources === true;
  const query = canonicalQuery(tagFilters, typeFilters, excludeCompliant);
  const page = await ctx.deps.store.queryTagged({
    accountId: ctx.accountId,
    region: ctx.region,
    tagFilters,
    typeFilters,
    noncompliantOnly: excludeCompliant,
    withCompliance: includeCompliance,
    limit: perPage,
    tagLimit: tagsPerPage,
    cursor: openToken(ctx, req.PaginationToken, query),
  });
  return response(pageToken(ctx, page.cursor, query), page.items, includeCompliance);
}

/**
 * "Set this to true if you are interested in retrieving information on noncompliant resources only":
 * the store pages the noncompliant resources themselves (their own index, keyset by rid), so every
 * page is full until the last.
 */
function response(token: string, items: TaggedResource[], includeCompliance: boolean) {
  return new EncodedJson([
    `{"PaginationToken":${JSON.stringify(token)},"ResourceTagMappingList":[`,
    mappingList(items, includeCompliance),
    "]}",
  ]);
}

/** A page is always encoded as it was asked for: whether it carries compliance is part of its query. */
function mappingList(items: TaggedResource[], includeCompliance: boolean): Buffer {
  return encodeOnce(items, (list) => list.map((r) => mappingJson(r, includeCompliance)).join(","));
}

async function byArnList(ctx: TaggingContext, req: Request, arnList: string[], includeCompliance: boolean) {
  const conflicting = [
    req.ResourceTypeFilters?.length ? "ResourceTypeFilters" : null,
    req.TagFilters?.length ? "TagFilters" : null,
    req.ResourcesPerPage !== undefined ? "ResourcesPerPage" : null,
    req.TagsPerPage !== undefined ? "TagsPerPage" : null,
    req.PaginationToken ? "PaginationToken" : null,
  ].filter((p) => p !== null);
  if (conflicting.length > 0) {
    throw invalidParameter(`ResourceARNList cannot be specified together with ${conflicting.join(", ")}`);
  }
  // "If a resource specified by this parameter doesn't exist, it doesn't generate an error; it
  // simply isn't included in the response." Another account's ARN is simply not found.
  const arns = parseArns(ctx, arnList).filter((a) => a.accountId === "" || a.accountId === ctx.accountId);
  const found = await ctx.deps.store.getTagged(
    ctx.accountId,
    ctx.region,
    arns.map((a) => a.arn),
    includeCompliance,
  );
  const kept = req.ExcludeCompliantResources ? found.filter((r) => !compliance(r).ComplianceStatus) : found;
  return response("", kept, includeCompliance);
}

function parseTagFilters(filters: NonNullable<Request["TagFilters"]>): TagFilterSpec[] {
  const seen = new Set<string>();
  return filters.map((f, i) => {
    if (f.Key === undefined) throw invalidParameter(`TagFilters[${i}] must contain a Key`);
    if (seen.has(f.Key)) throw invalidParameter(`TagFilters contains the key ${f.Key} more than once`);
    seen.add(f.Key);
    const values = [...new Set(f.Values ?? [])];
    if (values.length > RULES.valuesPerTagFilter) {
      throw invalidParameter(
        `A TagFilter can include at most ${RULES.valuesPerTagFilter} values; ${f.Key} has ${values.length}`,
      );
    }
    return { key: f.Key, values };
  });
}

/** The filters in a canonical form: a token only continues the query it was issued for. */
function canonicalQuery(tags: TagFilterSpec[], types: TypeFilterSpec[], excludeCompliant: boolean): string {
  const t = tags
    .map((f) => [f.key, [...f.values].sort()])
    .sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
  const r = types.map((f) => `${f.service}:${f.resourceType ?? "*"}`).sort();
  return `GetResources\n${JSON.stringify([t, r, excludeCompliant])}`;
}
