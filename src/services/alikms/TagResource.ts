import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import { addTags } from "../aliyun-common.ts";
import { type AliKmsContext, BATCH_WRITE_ERRORS, resolveLegacyTarget, validateTags } from "./common.ts";
import { LEGACY_TARGET } from "./legacy.ts";

/**
 * TagResource (the legacy single-resource action): `KeyId` or `SecretName`, and `Tags` as one JSON
 * string, `[{"TagKey":"k","TagValue":"v"}]`. A key already on the resource gets the new value.
 */
export const params = {
  ...LEGACY_TARGET,
  Tags: {
    type: "list",
    member: { type: "struct", members: { TagKey: { type: "string" }, TagValue: { type: "string" } } },
    max: 20,
    json: "only",
    required: true,
  },
} as const satisfies ParamTable;

export async function handler(ctx: AliKmsContext, req: ParamsOf<typeof params>) {
  const tags = validateTags(
    (req.Tags ?? []).map((t) => ({ key: t.TagKey, value: t.TagValue })),
    (n, part) => `Tags.${n}.Tag${part}`,
  );
  const target = await resolveLegacyTarget(ctx, req);
  if (tags.length === 0) return {};
  await addTags(ctx, [target.record], tags, {
    ...BATCH_WRITE_ERRORS,
    notFound: target.notFound,
  });
  return {};
}
