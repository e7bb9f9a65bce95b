import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import { removeTags } from "../aliyun-common.ts";
import {
  type AliKmsContext,
  REGION_ID,
  RESOURCE_IDS,
  RESOURCE_TYPE,
  requireRegion,
  requireRemovableKeys,
  resolveTargets,
} from "./common.ts";

/**
 * UntagResources: up to 50 `ResourceId.N`, up to 20 `TagKey.N` (also as JSON arrays). `All=true`
 * removes every tag and, as in ECS, takes effect only when no `TagKey.N` is given. Keys a resource
 * does not carry are fine ("only the tags whose keys are attached are removed"); keys starting with
 * `aliyun` or `acs:` cannot be removed.
 */
export const params = {
  RegionId: REGION_ID,
  ResourceType: RESOURCE_TYPE,
  ResourceId: { ...RESOURCE_IDS, required: true },
  TagKey: { type: "list", member: { type: "string" }, max: 20, json: "also" },
  All: { type: "boolean" },
} as const satisfies ParamTable;

export async function handler(ctx: AliKmsContext, req: ParamsOf<typeof params>) {
  const region = requireRegion(req.RegionId as string);
  const keys = req.TagKey ?? [];
  requireRemovableKeys(keys, (n) => `TagKey.${n}`);
  const records = await resolveTargets(ctx, region, req.ResourceType as string, req.ResourceId ?? []);
  await removeTags(ctx, records, { keys: [...new Set(keys)], all: req.All === true });
  return {};
}
