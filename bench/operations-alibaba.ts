import { acsQuery } from "./acs3-client.ts";
import { tagsAt, WIDE_KEY } from "./inventory.ts";
import {
  ALIBABA_KMS,
  type AliyunApi,
  BENCH_KEYS,
  BENCH_REMOVABLE,
  benchTags,
  ECS,
  importAll,
  type OpDefinition,
  type OpEnv,
  type OpInstance,
  RemovalCount,
  streamOf,
} from "./op-kit.ts";
import { ALIBABA_ACCOUNT_ID } from "./tagd.ts";

/**
 * The Alibaba Cloud operations: ECS (2014-05-26) and KMS (2016-01-20) tagging, each over a pool of
 * resources of the Alibaba account registered beside the AWS inventory (unmeasured, through the admin
 * import): min(N, 10,000) ECS instances or KMS keys, with the inventory's tags for their index. The
 * parameters go out as the SDKs send them: flattened (`Tag.1.Key`), the legacy KMS actions' lists as
 * JSON text, and no `RegionId` on those (the SDK takes the region from the endpoint; tagd then finds
 * the key in whichever region holds it).
 */

/** Resources in an Alibaba pool, at most. */
const POOL = 10_000;
const REGION = "cn-hangzhou";

const ECS_TAG_SALT = 0x6002;
const ECS_UNTAG_SALT = 0x6003;
const ECS_ADD_SALT = 0x6004;
const ECS_REMOVE_SALT = 0x6005;
const KMS_TAG_SALT = 0x7001;
const KMS_UNTAG_SALT = 0x7002;
const KMS_LIST_SALT = 0x7003;
const KMS_LEGACY_TAG_SALT = 0x7004;
const KMS_LEGACY_UNTAG_SALT = 0x7005;
const KMS_LEGACY_LIST_SALT = 0x7006;

interface Pool {
  api: AliyunApi;
  service: string;
  resourceType: string;
  id(i: number): string;
}

const INSTANCES: Pool = {
  api: ECS,
  service: "ecs",
  resourceType: "instance",
  id: (i) => `i-bench${i.toString(36)}`,
};
const KEYS: Pool = {
  api: ALIBABA_KMS,
  service: "kms",
  resourceType: "key",
  id: (i) => `key-bench${i.toString(36).padStart(4, "0")}`,
};

/** Registers the pool (again: the import merges), with the bench-k* keys too when `benchKeys`. */
async function register(env: OpEnv, pool: Pool, benchKeys = false): Promise<number> {
  const count = Math.min(env.n, POOL);
  const resources = Array.from({ length: count }, (_, i) => ({
    cloud: "alibaba",
    accountId: ALIBABA_ACCOUNT_ID,
    region: REGION,
    service: pool.service,
    resourceType: pool.resourceType,
    resourceId: pool.id(i),
    tags: benchKeys ? { ...tagsAt(i), ...BENCH_REMOVABLE } : tagsAt(i),
  }));
  await importAll(env, resources);
  return count;
}

async function call(env: OpEnv, api: AliyunApi, action: string, params: Record<string, string>) {
  const answer = await env.call(api, action, params);
  if (answer.status !== 200)
    throw new Error(
      `${action} ${JSON.stringify(params).slice(0, 300)} answered ${answer.status}: ${answer.body}`,
    );
  return JSON.parse(answer.body) as Record<string, unknown>;
}

/** A resource's tags as ListTagResources (either version) lists them. */
async function tagsOf(env: OpEnv, pool: Pool, id: string): Promise<Map<string, string>> {
  const answer = (await call(env, pool.api, "ListTagResources", {
    RegionId: REGION,
    ResourceType: pool.resourceType,
    "ResourceId.1": id,
  })) as { TagResources?: { TagResource?: { TagKey: string; TagValue: string }[] } };
  return new Map((answer.TagResources?.TagResource ?? []).map((r) => [r.TagKey, r.TagValue]));
}

const flatTags = (tags: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(tags).flatMap(([k, v], i) => [
      [`Tag.${i + 1}.Key`, k],
      [`Tag.${i + 1}.Value`, v],
    ]),
  );

/** The tags a write's parameters set, flattened (`Tag.N.Key`, `Tag.N.Value`). */
function flatSent(params: Record<string, string>): [string, string | undefined][] {
  return Object.entries(params)
    .filter(([k]) => /^Tag\.\d+\.Key$/.test(k))
    .map(([k, key]) => [key, params[k.replace(/Key$/, "Value")]]);
}

/**
 * A write on one resource of the pool: `params(id, rnd)` is the call's parameters. Set-up sends one
 * call and reads the resource's tags back; with `removes`, the pool carries the bench-k* keys first
 * and the call must have taken them away, otherwise it must have set the tags `sent` finds in it.
 */
function poolWrite(
  id: string,
  label: string,
  pool: Pool,
  action: string,
  salt: number,
  params: (resourceId: string, rnd: () => number) => Record<string, string>,
  removes: boolean,
  sent = flatSent,
): OpDefinition {
  return {
    id,
    label,
    kind: "write",
    api: pool.api,
    async setup(env): Promise<OpInstance> {
      const count = await register(env, pool, removes);
      const probeId = pool.id(count - 1);
      const before = await tagsOf(env, pool, probeId);
      const probe = params(probeId, streamOf(salt, -1));
      // A removal must find the keys there first, or its check below would pass for nothing.
      if (removes && !BENCH_KEYS.every((k) => before.has(k)))
        throw new Error(`${probeId} did not carry the bench keys before ${action}`);
      await call(env, pool.api, action, probe);
      const after = await tagsOf(env, pool, probeId);
      const set = sent(probe);
      const done = removes
        ? after.size > 0 && BENCH_KEYS.every((k) => !after.has(k))
        : set.length === BENCH_KEYS.length && set.every(([key, value]) => after.get(key) === value);
      if (!done) throw new Error(`${action} on ${probeId} left ${JSON.stringify([...after])}`);
      const removals = new RemovalCount();
      return {
        request: (i) => {
          const rnd = streamOf(salt, i);
          const index = Math.floor(rnd() * count);
          if (removes) removals.draw(index);
          return { target: action, body: acsQuery(params(pool.id(index), rnd)) };
        },
        ...(removes ? { note: () => removals.note() } : {}),
      };
    },
  };
}

/** KMS's legacy writes name the key by `KeyId` alone and carry their lists as JSON text. */
const legacyTags = (keyId: string, rnd: () => number) => ({
  KeyId: keyId,
  Tags: JSON.stringify(Object.entries(benchTags(rnd)).map(([TagKey, TagValue]) => ({ TagKey, TagValue }))),
});
const legacySent = (params: Record<string, string>): [string, string][] =>
  (JSON.parse(params.Tags as string) as { TagKey: string; TagValue: string }[]).map((t) => [
    t.TagKey,
    t.TagValue,
  ]);

/** A read whose request shapes alternate; set-up checks each shape's answer with `enough`. */
function poolRead(
  id: string,
  label: string,
  pool: Pool,
  action: string,
  shapes: (count: number) => ((i: number) => Record<string, string>)[],
  enough: (answer: Record<string, unknown>) => boolean,
): OpDefinition {
  return {
    id,
    label,
    kind: "read",
    api: pool.api,
    async setup(env) {
      const count = await register(env, pool);
      const made = shapes(count);
      for (const shape of made) {
        const params = shape(0);
        const answer = await call(env, pool.api, action, params);
        if (!enough(answer))
          throw new Error(
            `${action} ${JSON.stringify(params)} answered ${JSON.stringify(answer).slice(0, 300)}`,
          );
      }
      return {
        request: (i) => ({
          target: action,
          body: acsQuery((made[i % made.length] as (i: number) => Record<string, string>)(i)),
        }),
      };
    },
  };
}

const rowsAtLeast =
  (n: number) =>
  (answer: Record<string, unknown>): boolean =>
    ((answer as { TagResources?: { TagResource?: unknown[] } }).TagResources?.TagResource?.length ?? 0) >= n;

const drawn = (count: number, salt: number, i: number) => Math.floor(streamOf(salt, i)() * count);

export const ALIBABA_OPERATIONS: OpDefinition[] = [
  poolRead(
    "ecs-list-prefix",
    "ECS ListTagResources (prefix TagFilter)",
    INSTANCES,
    "ListTagResources",
    // A value prefix on a popular key, and a key prefix: first pages, alternately.
    () =>
      (
        [
          { "TagFilter.1.TagKey": "env", "TagFilter.1.TagValues.1": "pro*" },
          { "TagFilter.1.TagKey": "te*" },
        ] as Record<string, string>[]
      ).map((filter) => () => ({ RegionId: REGION, ResourceType: "instance", ...filter })),
    rowsAtLeast(20),
  ),
  poolRead(
    "ecs-describe-tags",
    "ECS DescribeTags (instances; by key)",
    INSTANCES,
    "DescribeTags",
    // The first page of every pair on instances, and of one key's values, alternately.
    () =>
      ([{}, { "Tag.1.Key": WIDE_KEY }] as Record<string, string>[]).map((filter) => () => ({
        RegionId: REGION,
        ResourceType: "instance",
        ...filter,
      })),
    (answer) => ((answer as { Tags?: { Tag?: unknown[] } }).Tags?.Tag?.length ?? 0) >= 20,
  ),
  poolWrite(
    "ecs-tag-1",
    "ECS TagResources (1 instance, 5 tags)",
    INSTANCES,
    "TagResources",
    ECS_TAG_SALT,
    (id, rnd) => ({
      RegionId: REGION,
      ResourceType: "instance",
      "ResourceId.1": id,
      ...flatTags(benchTags(rnd)),
    }),
    false,
  ),
  poolWrite(
    "ecs-untag-1",
    "ECS UntagResources (1 instance, 5 keys)",
    INSTANCES,
    "UntagResources",
    ECS_UNTAG_SALT,
    (id) => ({
      RegionId: REGION,
      ResourceType: "instance",
      "ResourceId.1": id,
      ...Object.fromEntries(BENCH_KEYS.map((k, i) => [`TagKey.${i + 1}`, k])),
    }),
    true,
  ),
  poolWrite(
    "ecs-add-tags",
    "ECS AddTags (1 instance, 5 tags)",
    INSTANCES,
    "AddTags",
    ECS_ADD_SALT,
    (id, rnd) => ({
      RegionId: REGION,
      ResourceType: "instance",
      ResourceId: id,
      ...flatTags(benchTags(rnd)),
    }),
    false,
  ),
  poolWrite(
    "ecs-remove-tags",
    "ECS RemoveTags (1 instance, 5 keys)",
    INSTANCES,
    "RemoveTags",
    ECS_REMOVE_SALT,
    (id) => ({
      RegionId: REGION,
      ResourceType: "instance",
      ResourceId: id,
      ...Object.fromEntries(BENCH_KEYS.map((k, i) => [`Tag.${i + 1}.Key`, k])),
    }),
    true,
  ),
  poolRead(
    "alikms-list",
    "Alibaba KMS ListTagResources (1 key; by tag)",
    KEYS,
    "ListTagResources",
    // One key's tags, and the first page of the keys carrying env=prod, alternately.
    (count) => [
      (i) => ({
        RegionId: REGION,
        ResourceType: "key",
        "ResourceId.1": KEYS.id(drawn(count, KMS_LIST_SALT, i)),
      }),
      () => ({ RegionId: REGION, ResourceType: "key", "Tag.1.Key": "env", "Tag.1.Value": "prod" }),
    ],
    rowsAtLeast(5),
  ),
  poolWrite(
    "alikms-tag-1",
    "Alibaba KMS TagResources (1 key, 5 tags)",
    KEYS,
    "TagResources",
    KMS_TAG_SALT,
    (id, rnd) => ({ RegionId: REGION, ResourceType: "key", "ResourceId.1": id, ...flatTags(benchTags(rnd)) }),
    false,
  ),
  poolWrite(
    "alikms-untag-1",
    "Alibaba KMS UntagResources (1 key, 5 keys)",
    KEYS,
    "UntagResources",
    KMS_UNTAG_SALT,
    (id) => ({
      RegionId: REGION,
      ResourceType: "key",
      "ResourceId.1": id,
      ...Object.fromEntries(BENCH_KEYS.map((k, i) => [`TagKey.${i + 1}`, k])),
    }),
    true,
  ),
  poolRead(
    "alikms-list-legacy",
    "Alibaba KMS ListResourceTags (legacy, 1 key)",
    KEYS,
    "ListResourceTags",
    (count) => [(i) => ({ KeyId: KEYS.id(drawn(count, KMS_LEGACY_LIST_SALT, i)) })],
    (answer) => ((answer as { Tags?: { Tag?: unknown[] } }).Tags?.Tag?.length ?? 0) >= 5,
  ),
  poolWrite(
    "alikms-tag-legacy",
    "Alibaba KMS TagResource (legacy, 1 key, 5 tags)",
    KEYS,
    "TagResource",
    KMS_LEGACY_TAG_SALT,
    legacyTags,
    false,
    legacySent,
  ),
  poolWrite(
    "alikms-untag-legacy",
    "Alibaba KMS UntagResource (legacy, 1 key, 5 keys)",
    KEYS,
    "UntagResource",
    KMS_LEGACY_UNTAG_SALT,
    (keyId) => ({ KeyId: keyId, TagKeys: JSON.stringify(BENCH_KEYS) }),
    true,
  ),
];
