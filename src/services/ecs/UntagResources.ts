import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import { removeTags } from "../aliyun-common.ts";
import {
  type EcsContext,
  OWNER_PARAMS,
  RESOURCE_IDS,
  refuseOwnerParams,
  requireRegion,
  requireRemovableKey,
  resolveTargets,
  TAG_SERVICE_REGION_ID,
  TAG_SERVICE_RESOURCE_TYPE,
} from "./common.ts";
import { ecsSpec } from "./errors.ts";

/**
 * UntagResources: up to 50 `ResourceId.N`, up to 20 `TagKey.N`; `All=true` removes every tag and
 * "takes effect only when TagKey.N is not set". Neither given removes nothing.
 */
export const params = {
  RegionId: TAG_SERVICE_REGION_ID,
  ResourceType: TAG_SERVICE_RESOURCE_TYPE,
  ResourceId: RESOURCE_IDS,
  TagKey: { type: "list", member: { type: "string" }, max: 20, tooMany: ecsSpec("InvalidTagCount") },
  All: { type: "boolean" },
  ...OWNER_PARAMS,
} as const satisfies ParamTable;

export async function handler(ctx: EcsContext, req: ParamsOf<typeof params>) {
  refuseOwnerParams(req);
  const region = requireRegion(req.RegionId as string);
  const keys = req.TagKey ?? [];
  keys.forEach((key, i) => {
    requireRemovableKey(key, `TagKey.${i + 1}`);
  });
  const records = await resolveTargets(ctx, region, req.ResourceType as string, req.ResourceId ?? [], false);
  await removeTags(ctx, records, { keys: [...new Set(keys)], all: req.All === true });
  return {};
}
