import type { Tag } from "../../domain/resource.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import { findKey, type KmsContext, keyNotFound, resolveKey } from "./common.ts";
import { KEY_ID, LIMIT, MARKER } from "./shapes.ts";

export const input = {
  type: "structure",
  members: { KeyId: KEY_ID, Limit: LIMIT, Marker: MARKER },
} as const satisfies StructureShape;

/** "If you do not include a value, it defaults to 50." */
const DEFAULT_LIMIT = 50;

const byKey = (a: Tag, b: Tag) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The key's tags in key order, `Limit` at a time. NextMarker is a signed token holding the last key
 * returned and bound to the account, Region and key, so a page continues after that key even when
 * tags change in between, and a marker of another key or a tampered one is InvalidMarkerException.
 * Any key state answers: ListResourceTags documents no KMSInvalidStateException.
 */
export async function handler(ctx: KmsContext, req: Infer<typeof input>) {
  const key = resolveKey(ctx, req.KeyId as string);
  const binding = { accountId: ctx.accountId, region: ctx.region, query: `ListResourceTags\n${key.name}` };
  const after = req.Marker === undefined ? undefined : ctx.deps.tokens.open(req.Marker, binding);
  // One lookup, with the key's tags (none when never tagged).
  const held = await findKey(ctx, key);
  if (!held) throw keyNotFound(key.name);
  const all = [...held.tags].sort(byKey);
  const rest = after === undefined ? all : all.filter((t) => t.key > after);
  const limit = req.Limit ?? DEFAULT_LIMIT;
  const page = rest.slice(0, limit);
  const last = page.at(-1);
  const truncated = rest.length > limit && last !== undefined;
  return {
    Tags: page.map((t) => ({ TagKey: t.key, TagValue: t.value })),
    ...(truncated ? { NextMarker: ctx.deps.tokens.issue(binding, last.key) } : {}),
    Truncated: truncated,
  };
}
