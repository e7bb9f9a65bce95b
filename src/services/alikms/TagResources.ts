import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import { addTags } from "../aliyun-common.ts";
import {
  type AliKmsContext,
  BATCH_WRITE_ERRORS,
  REGION_ID,
  RESOURCE_IDS,
  RESOURCE_TYPE,
  requireRegion,
  resolveTargets,
  TAGS,
  validateTags,
} from "./common.ts";

/**
 * TagResources: up to 50 keys or secrets (`ResourceId.N`) of one `ResourceType`, up to 20 `Tag.N`;
 * both lists also as JSON arrays. A key already on a resource gets the new value; a tag without a
 * value gets the empty value. Every resource and the 20-tag limit are checked before anything is
 * written.
 */
export const params = {
  RegionId: REGION_ID,
  ResourceType: RESOURCE_TYPE,
  ResourceId: { ...RESOURCE_IDS, required: true },
  Tag: { ...TAGS, required: true },
} as const satisfies ParamTable;

export async function handler(ctx: AliKmsContext, req: ParamsOf<typeof params>) {
  const region = requireRegion(req.RegionId as string);
  const tags = validateTags(
    (req.Tag ?? []).map((t) => ({ key: t.Key, value: t.Value })),
    (n, part) => `Tag.${n}.${part}`,
  );
  const records = await resolveTargets(ctx, region, req.ResourceType as string, req.ResourceId ?? []);
  await addTags(ctx, records, tags, BATCH_WRITE_ERRORS);
  return {};
}
