import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import {
  addTags,
  type EcsContext,
  OWNER_PARAMS,
  RESOURCE_IDS,
  refuseOwnerParams,
  requireRegion,
  resolveTargets,
  TAG_SERVICE_REGION_ID,
  TAG_SERVICE_RESOURCE_TYPE,
  TAGS,
  validateTags,
} from "./common.ts";
import { ecsSpec } from "./errors.ts";

/**
 * TagResources: up to 50 `ResourceId.N` of one type, up to 20 `Tag.N`. A tag without a value gets the
 * empty value (values "can be an empty string"). Every resource is checked before any is tagged.
 */
export const params = {
  RegionId: TAG_SERVICE_REGION_ID,
  ResourceType: TAG_SERVICE_RESOURCE_TYPE,
  ResourceId: RESOURCE_IDS,
  Tag: { ...TAGS, required: true, missing: ecsSpec("MissingParameter.Tags") },
  ...OWNER_PARAMS,
} as const satisfies ParamTable;

export async function handler(ctx: EcsContext, req: ParamsOf<typeof params>) {
  refuseOwnerParams(req);
  const region = requireRegion(req.RegionId as string);
  const tags = validateTags(req.Tag ?? [], false);
  const records = await resolveTargets(ctx, region, req.ResourceType as string, req.ResourceId ?? [], false);
  await addTags(ctx, records, tags, "QuotaExceed.Tags");
  return {};
}
