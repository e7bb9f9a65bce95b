import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import { type AliKmsContext, resolveLegacyTarget } from "./common.ts";
import { LEGACY_TARGET } from "./legacy.ts";

/** Reads only: runs while the request's nonce is recorded. */
export const readOnly = true;

/**
 * ListResourceTags (legacy): the tags of one key, by key, as the SDK's model reads them:
 * `{"Tags":{"Tag":[{"KeyId","TagKey","TagValue"}]}}`.
 */
export const params = {
  RegionId: LEGACY_TARGET.RegionId,
  KeyId: { ...LEGACY_TARGET.KeyId, required: true },
} as const satisfies ParamTable;

export async function handler(ctx: AliKmsContext, req: ParamsOf<typeof params>) {
  const target = await resolveLegacyTarget(ctx, req);
  return {
    Tags: {
      Tag: target.record.tags.map((t) => ({
        KeyId: target.record.resourceId,
        TagKey: t.key,
        TagValue: t.value,
      })),
    },
  };
}
