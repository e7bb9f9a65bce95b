import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import { removeTags } from "../aliyun-common.ts";
import { type AliKmsContext, requireRemovableKeys, resolveLegacyTarget } from "./common.ts";
import { LEGACY_TARGET } from "./legacy.ts";

/**
 * UntagResource (legacy): `KeyId` or `SecretName`, and `TagKeys` as one JSON string, `["k1","k2"]`.
 * Keys the resource does not carry are fine.
 */
export const params = {
  ...LEGACY_TARGET,
  TagKeys: { type: "list", member: { type: "string" }, max: 20, json: "only", required: true },
} as const satisfies ParamTable;

export async function handler(ctx: AliKmsContext, req: ParamsOf<typeof params>) {
  const keys = req.TagKeys ?? [];
  requireRemovableKeys(keys, (n) => `TagKeys.${n}`);
  const target = await resolveLegacyTarget(ctx, req);
  if (target.known) await removeTags(ctx, [target.record], { keys: [...new Set(keys)], all: false });
  return {};
}
