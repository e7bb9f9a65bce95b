import { EncodedJson } from "../../protocols/aws-json.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import {
  EMPTY_BODY,
  findKey,
  type KmsContext,
  keyNotFound,
  refusalError,
  requireTaggableState,
  requireUserKey,
  resolveKey,
  stateRefusal,
} from "./common.ts";
import { KEY_ID, TAG_KEY_LIST } from "./shapes.ts";

export const input = {
  type: "structure",
  members: { KeyId: KEY_ID, TagKeys: TAG_KEY_LIST },
} as const satisfies StructureShape;

/**
 * "If the specified tag key isn't found on the KMS key, it doesn't throw an exception": absent keys
 * are no-ops. A key tagd does not know is NotFoundException in strict mode; in open mode it is what
 * UntagResources makes of an unknown resource — nothing to remove, so success — and it is not
 * registered (only tagging registers).
 */
export async function handler(ctx: KmsContext, req: Infer<typeof input>) {
  const keys = req.TagKeys ?? [];
  const key = resolveKey(ctx, req.KeyId as string);
  for (const k of keys) requireUserKey(k);
  const known = await findKey(ctx, key);
  if (!known) {
    if (ctx.deps.inventory === "open") return new EncodedJson(EMPTY_BODY);
    throw keyNotFound(key.name);
  }
  requireTaggableState(known);
  const [result] = await ctx.deps.store.applyTagChanges(ctx.accountId, [
    {
      resource: known,
      register: false,
      set: [],
      remove: [...new Set(keys)],
      check: (_c, _n, k) => stateRefusal(k),
    },
  ]);
  if (result && !result.ok && result.kind === "InvalidState") throw refusalError(result);
  // Deregistered between the lookup and the write: gone, as in strict mode.
  if (result && !result.ok && ctx.deps.inventory !== "open") throw keyNotFound(key.name);
  return new EncodedJson(EMPTY_BODY);
}
