import type { ResourceRecord, Tag } from "../../domain/resource.ts";
import { AWS_TAG_RULES } from "../../domain/tags.ts";
import { EncodedJson } from "../../protocols/aws-json.ts";
import type { TagRefusal } from "../../store/store.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import {
  EMPTY_BODY,
  findKey,
  type KmsContext,
  keyNotFound,
  refusalError,
  requireTaggableState,
  requireValidTags,
  resolveKey,
  stateRefusal,
} from "./common.ts";
import { KEY_ID, TAG_LIST } from "./shapes.ts";

export const input = {
  type: "structure",
  members: { KeyId: KEY_ID, Tags: TAG_LIST },
} as const satisfies StructureShape;

/**
 * "Each resource can have up to 50 user-created tags": counted on the key as the change leaves it,
 * inside the store's transaction, so concurrent calls cannot pass the limit together.
 */
function withinLimit(_current: Tag[], next: Tag[], key: ResourceRecord): TagRefusal | string | null {
  const max = AWS_TAG_RULES.maxTagsPerResource;
  return (
    stateRefusal(key) ??
    (next.length > max
      ? `The key would have ${next.length} tags; a KMS key can have at most ${max} tags`
      : null)
  );
}

/**
 * "Adds or overwrites one or more tags": a tag key the key already has gets the new value. In open
 * inventory mode a well-formed key id or ARN of the caller's account and Region that tagd has not
 * seen is registered (state Enabled), as the tagging API registers what it tags.
 */
export async function handler(ctx: KmsContext, req: Infer<typeof input>) {
  const tags = (req.Tags ?? []).map((t) => ({ key: t.TagKey as string, value: t.TagValue as string }));
  const key = resolveKey(ctx, req.KeyId as string);
  requireValidTags(tags);
  const known = await findKey(ctx, key);
  if (!known && ctx.deps.inventory !== "open") throw keyNotFound(key.name);
  if (known) requireTaggableState(known);
  const [result] = await ctx.deps.store.applyTagChanges(ctx.accountId, [
    {
      resource: known ?? key,
      register: ctx.deps.inventory === "open",
      set: tags,
      remove: [],
      check: withinLimit,
      enforce: true,
    },
  ]);
  if (result && !result.ok) {
    if (result.kind === "ResourceNotFound") throw keyNotFound(key.name);
    throw refusalError(result);
  }
  return new EncodedJson(EMPTY_BODY);
}
