import type { ParamsOf } from "../../protocols/aliyun-params.ts";
import { protocolError } from "../../protocols/aliyun-rpc.ts";
import { removeTags } from "../aliyun-common.ts";
import {
  type EcsContext,
  LEGACY_PARAMS,
  requireRegion,
  requireRemovableKey,
  resolveTargets,
} from "./common.ts";
import { ecsError } from "./errors.ts";

/**
 * RemoveTags (deprecated, like AddTags): one resource, up to 20 `Tag.N`. A tag goes when its key
 * matches and, if `Tag.N.Value` is given, its value too; a `Tag.N.Value` without its key is
 * `InvalidTag.Mismatch`.
 */
export const params = LEGACY_PARAMS;

export async function handler(ctx: EcsContext, req: ParamsOf<typeof params>) {
  const region = requireRegion(req.RegionId as string);
  const entries = req.Tag ?? [];
  entries.forEach((entry, i) => {
    if (entry.Key === undefined) throw ecsError("InvalidTag.Mismatch", { n: i + 1 });
    requireRemovableKey(entry.Key, `Tag.${i + 1}.Key`);
  });
  const resolve = () =>
    resolveTargets(ctx, region, req.ResourceType as string, [req.ResourceId as string], true);
  // A key goes only while it has the value the caller named; read again if a concurrent write changed it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const records = await resolve();
    const current = new Map((records[0]?.tags ?? []).map((t) => [t.key, t.value]));
    const keys = entries
      .filter((e) => e.Value === undefined || current.get(e.Key as string) === e.Value)
      .map((e) => e.Key as string);
    const expect = new Map(
      entries
        .filter((e) => e.Value !== undefined && keys.includes(e.Key as string))
        .map((e) => [e.Key as string, e.Value as string]),
    );
    if (await removeTags(ctx, records, { keys: [...new Set(keys)], all: false, expect })) return {};
  }
  throw protocolError("ServiceUnavailable", "The tags of the resource kept changing; retry the request.");
}
