import type { ParamsOf } from "../../protocols/aliyun-params.ts";
import {
  addTags,
  type EcsContext,
  LEGACY_PARAMS,
  requireRegion,
  resolveTargets,
  validateTags,
} from "./common.ts";

/**
 * AddTags (seed 000, deprecated in favour of TagResources but still called): one resource, up to 20
 * `Tag.N.Key` / `Tag.N.Value` pairs; a key already on the resource gets the new value.
 */
export const params = LEGACY_PARAMS;

export async function handler(ctx: EcsContext, req: ParamsOf<typeof params>) {
  const region = requireRegion(req.RegionId as string);
  const tags = validateTags(req.Tag ?? [], true);
  const records = await resolveTargets(
    ctx,
    region,
    req.ResourceType as string,
    [req.ResourceId as string],
    true,
  );
  await addTags(ctx, records, tags, "OperationDenied.QuotaExceed");
  return {};
}
