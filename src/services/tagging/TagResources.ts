import { AWS_TAG_RULES, perResourceLimit, reservedPrefixOf } from "../../domain/tags.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import { collectFailures, parseArns, resolveTargets, type TaggingContext } from "./common.ts";
import { invalidParameter } from "./errors.ts";
import { ARN_LIST_20, TAG_KEY, TAG_VALUE } from "./shapes.ts";

export const input = {
  type: "structure",
  members: {
    ResourceARNList: ARN_LIST_20,
    Tags: { type: "map", key: TAG_KEY, value: TAG_VALUE, max: 50, required: true },
  },
} as const satisfies StructureShape;

const withinLimit = perResourceLimit(AWS_TAG_RULES);

export async function handler(ctx: TaggingContext, req: Infer<typeof input>) {
  const tags = Object.entries(req.Tags ?? {}).map(([key, value]) => ({ key, value }));
  for (const t of tags) {
    const reserved = reservedPrefixOf(t.key, AWS_TAG_RULES);
    if (reserved)
      throw invalidParameter(`Tag keys starting with '${reserved}' are reserved for AWS use: ${t.key}`);
  }
  const arns = parseArns(ctx, req.ResourceARNList ?? []);
  const { records, failures } = await resolveTargets(ctx, arns);
  const results = await ctx.deps.store.applyTagChanges(
    ctx.accountId,
    records.map((resource) => ({
      resource,
      register: ctx.deps.inventory === "open",
      set: tags,
      remove: [],
      check: withinLimit,
      // Keys the account's effective tag policy enforces on the resource's type: a value or
      // capitalization it does not allow fails that resource (its FailedResourcesMap entry).
      enforce: true,
    })),
  );
  return { FailedResourcesMap: collectFailures(results, records, failures) };
}
