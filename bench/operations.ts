import { mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  arnAt,
  importEntry,
  kmsKeyArnAt,
  POLICY_ACCOUNT_ID,
  POPULAR_FILTERS,
  tagsAt,
  WIDE_KEY,
} from "./inventory.ts";
import {
  BENCH_KEYS,
  BENCH_REMOVABLE,
  benchTags,
  distinctIndices,
  expectOk,
  failedResources,
  importAll,
  KMS,
  type OpDefinition,
  type OpEnv,
  RemovalCount,
  streamOf,
  TAGGING,
  target,
} from "./op-kit.ts";
import { ALIBABA_OPERATIONS } from "./operations-alibaba.ts";
import { processTree, treeMemoryBytes } from "./processes.ts";

export type { ApiTarget, OpDefinition } from "./op-kit.ts";
export { TAGGING } from "./op-kit.ts";

/**
 * The compliance actions need a tag policy attached somewhere. It goes on the policy account only (and
 * PUT is idempotent): the measured account keeps no effective policy, so its tag writes are measured
 * without one, and a summary still counts every one of its tagged resources.
 */
async function attachBenchPolicy(env: OpEnv): Promise<void> {
  const put = await env.adminCall("PUT", "/admin/v1/tag-policies/bench-cost", {
    content: { tags: { costcenter: { tag_value: { "@@assign": ["100", "200"] } } } },
    targets: [POLICY_ACCOUNT_ID],
  });
  if (put.status !== 200) throw new Error(`tag policy answered ${put.status}: ${put.body}`);
}

type Listing = { ResourceTagMappingList?: unknown[]; PaginationToken?: string };

const TAG_1_SALT = 0x1001;
const TAG_20_SALT = 0x1020;
const ARN_LIST_SALT = 0x2020;
const FILTER_SALT = 0x3001;
const UNTAG_SALT = 0x4020;
const KMS_TAG_1_SALT = 0x5001;
const KMS_UNTAG_SALT = 0x5002;
const KMS_LIST_SALT = 0x5003;
/** KMS keys registered (unmeasured) for the KMS operations: as many as resources, at most this. */
const KMS_KEYS = 10_000;
/** Iterations of UntagResources whose resources carry the keys beforehand. */
const UNTAG_PREPARED = 2_000;

/**
 * Registers the KMS keys the KMS operations draw from, beside the seeded inventory and unmeasured: as
 * many as resources, at most KMS_KEYS, each with the inventory's tags for its index, so that a write
 * overwrites and adds as a TagResources call on the inventory does; with `benchKeys`, the bench-k*
 * keys too, for the removals to remove. Returns how many there are.
 */
async function registerKmsKeys(env: OpEnv, benchKeys = false): Promise<number> {
  const keys = Math.min(env.n, KMS_KEYS);
  const resources = Array.from({ length: keys }, (_, i) => ({
    arn: kmsKeyArnAt(i),
    tags: benchKeys ? { ...tagsAt(i), ...BENCH_REMOVABLE } : tagsAt(i),
  }));
  await importAll(env, resources);
  return keys;
}

/**
 * The measured operations, one entry each. An entry names how its requests are signed and routed,
 * and builds, against a seeded server, the function from iteration index to request. Resources are
 * drawn uniformly from the inventory, filters from the popular head of its tags.
 */
export const OPERATIONS: OpDefinition[] = [
  {
    id: "get-resources-filter",
    label: "GetResources (1 TagFilter, 100/page)",
    kind: "read",
    api: TAGGING,
    async setup(env) {
      const bodies = POPULAR_FILTERS.map((f) =>
        JSON.stringify({ TagFilters: [{ Key: f.key, Values: [f.value] }], ResourcesPerPage: 100 }),
      );
      for (const body of bodies) {
        const page = (await expectOk(env, TAGGING, "GetResources", JSON.parse(body))) as Listing;
        const got = page.ResourceTagMappingList?.length ?? 0;
        if (got !== 100) throw new Error(`GetResources ${body} returned ${got} resources, not a full page`);
      }
      const t = target(TAGGING, "GetResources");
      return {
        request: (i) => ({
          target: t,
          body: bodies[Math.floor(streamOf(FILTER_SALT, i)() * bodies.length)] as string,
        }),
      };
    },
  },
  {
    id: "get-resources-arns",
    label: "GetResources (ResourceARNList of 20)",
    kind: "read",
    api: TAGGING,
    async setup(env) {
      const make = (i: number) =>
        JSON.stringify({
          ResourceARNList: distinctIndices(streamOf(ARN_LIST_SALT, i), env.n, 20).map(arnAt),
        });
      const page = (await expectOk(env, TAGGING, "GetResources", JSON.parse(make(0)))) as Listing;
      const got = page.ResourceTagMappingList?.length ?? 0;
      if (got !== Math.min(20, env.n)) throw new Error(`GetResources by ARN list returned ${got} of 20`);
      const t = target(TAGGING, "GetResources");
      return { request: (i) => ({ target: t, body: make(i) }) };
    },
  },
  {
    id: "get-resources-page50",
    label: "GetResources (page 50, 100/page)",
    kind: "read",
    api: TAGGING,
    async setup(env) {
      // The token of page 50, fetched right before measuring (tokens live 15 minutes).
      let token = "";
      for (let page = 1; page < 50; page++) {
        const answer = (await expectOk(env, TAGGING, "GetResources", {
          ResourcesPerPage: 100,
          ...(token ? { PaginationToken: token } : {}),
        })) as Listing;
        token = answer.PaginationToken ?? "";
        if (!token) throw new Error(`the listing ended at page ${page}: no page 50 with N=${env.n}`);
      }
      const body = JSON.stringify({ ResourcesPerPage: 100, PaginationToken: token });
      const page50 = (await expectOk(env, TAGGING, "GetResources", JSON.parse(body))) as Listing;
      const got = page50.ResourceTagMappingList?.length ?? 0;
      if (got !== 100) throw new Error(`page 50 returned ${got} resources, not 100`);
      const t = target(TAGGING, "GetResources");
      return { request: () => ({ target: t, body }) };
    },
  },
  {
    id: "compliance-summary",
    label: "GetComplianceSummary (GroupBy REGION, RESOURCE_TYPE)",
    kind: "read",
    api: TAGGING,
    async setup(env) {
      await attachBenchPolicy(env);
      const body = JSON.stringify({ GroupBy: ["REGION", "RESOURCE_TYPE"] });
      const answer = (await expectOk(env, TAGGING, "GetComplianceSummary", JSON.parse(body))) as {
        SummaryList?: unknown[];
      };
      if ((answer.SummaryList?.length ?? 0) < 2) {
        throw new Error(`GetComplianceSummary returned ${answer.SummaryList?.length ?? 0} groups`);
      }
      const t = target(TAGGING, "GetComplianceSummary");
      return { request: () => ({ target: t, body }) };
    },
  },
  {
    id: "describe-report",
    label: "DescribeReportCreation",
    kind: "read",
    api: TAGGING,
    async setup(env) {
      // The action needs a policy attached somewhere.
      await attachBenchPolicy(env);
      const answer = (await expectOk(env, TAGGING, "DescribeReportCreation", {})) as { Status?: string };
      if (!answer.Status) throw new Error("DescribeReportCreation answered no Status");
      const t = target(TAGGING, "DescribeReportCreation");
      return { request: () => ({ target: t, body: "{}" }) };
    },
  },
  {
    id: "report",
    label: "StartReportCreation, the whole inventory (then DescribeReportCreation)",
    kind: "read",
    api: TAGGING,
    async setup(env) {
      // One report over every resource of the organization, timed, with tagd's RSS sampled meanwhile:
      // a report streams page by page, so its memory must not grow with N.
      await attachBenchPolicy(env);
      mkdirSync(join(env.dataDir, "buckets", "bench-reports"), { recursive: true });
      const tree = processTree(env.pid);
      const before = treeMemoryBytes(tree) ?? 0;
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, treeMemoryBytes(tree) ?? 0);
      }, 20);
      const started = performance.now();
      let status = "";
      let location = "";
      try {
        const start = await env.call(TAGGING, "StartReportCreation", { S3Bucket: "bench-reports" });
        if (start.status !== 200)
          throw new Error(`StartReportCreation answered ${start.status}: ${start.body}`);
        for (;;) {
          const d = (await expectOk(env, TAGGING, "DescribeReportCreation", {})) as {
            Status?: string;
            S3Location?: string;
            ErrorMessage?: string;
          };
          status = d.Status ?? "";
          if (status === "FAILED") throw new Error(`the report failed: ${d.ErrorMessage ?? ""}`);
          if (status === "SUCCEEDED") {
            location = d.S3Location ?? "";
            break;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        clearInterval(sampler);
      }
      const seconds = (performance.now() - started) / 1000;
      const key = location.replace(/^s3:\/\/[^/]+\//, "");
      const file = join(env.dataDir, "buckets", "bench-reports", ...key.split("/"));
      const lines = readFileSync(file, "utf8").split("\r\n").length - 2;
      if (lines < env.n) throw new Error(`the report has ${lines} rows for ${env.n} resources`);
      const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
      const remark =
        `report of ${lines.toLocaleString("en-US")} rows (${mb(statSync(file).size)} MB) in ${seconds.toFixed(1)} s; ` +
        `tagd's RSS ${mb(before)} MB before, ${mb(peak)} MB at most while it ran`;
      rmSync(file);
      const t = target(TAGGING, "DescribeReportCreation");
      return { request: () => ({ target: t, body: "{}" }), note: () => remark };
    },
  },
  {
    id: "get-tag-keys",
    label: "GetTagKeys (first page)",
    kind: "read",
    api: TAGGING,
    async setup(env) {
      const answer = (await expectOk(env, TAGGING, "GetTagKeys", {})) as { TagKeys?: string[] };
      if ((answer.TagKeys?.length ?? 0) < 20) {
        throw new Error(`GetTagKeys returned ${answer.TagKeys?.length ?? 0} keys: was the inventory tagged?`);
      }
      const t = target(TAGGING, "GetTagKeys");
      return { request: () => ({ target: t, body: "{}" }) };
    },
  },
  {
    id: "get-tag-values",
    label: `GetTagValues (${WIDE_KEY}, first page)`,
    kind: "read",
    api: TAGGING,
    async setup(env) {
      const body = JSON.stringify({ Key: WIDE_KEY });
      const answer = (await expectOk(env, TAGGING, "GetTagValues", JSON.parse(body))) as {
        TagValues?: string[];
      };
      if ((answer.TagValues?.length ?? 0) < 100) {
        throw new Error(`GetTagValues ${WIDE_KEY} returned ${answer.TagValues?.length ?? 0} values`);
      }
      const t = target(TAGGING, "GetTagValues");
      return { request: () => ({ target: t, body }) };
    },
  },
  {
    id: "tag-1",
    label: "TagResources (1 ARN, 5 tags)",
    kind: "write",
    api: TAGGING,
    async setup(env) {
      const t = target(TAGGING, "TagResources");
      return {
        request: (i) => {
          const rnd = streamOf(TAG_1_SALT, i);
          const arn = arnAt(Math.floor(rnd() * env.n));
          return { target: t, body: JSON.stringify({ ResourceARNList: [arn], Tags: benchTags(rnd) }) };
        },
        failed: failedResources,
      };
    },
  },
  {
    id: "tag-20",
    label: "TagResources (20 ARNs, 5 tags)",
    kind: "write",
    api: TAGGING,
    async setup(env) {
      const t = target(TAGGING, "TagResources");
      return {
        request: (i) => {
          const rnd = streamOf(TAG_20_SALT, i);
          const arns = distinctIndices(rnd, env.n, 20).map(arnAt);
          return { target: t, body: JSON.stringify({ ResourceARNList: arns, Tags: benchTags(rnd) }) };
        },
        failed: failedResources,
      };
    },
  },
  {
    id: "untag-20",
    label: "UntagResources (20 ARNs, 5 keys)",
    kind: "write",
    api: TAGGING,
    async setup(env) {
      // The keys are put, unmeasured, through the admin import on the resources of the first
      // UNTAG_PREPARED iterations, so that those calls remove tags that are there. A resource drawn
      // again (small N) has lost them already; the note says how many removals were real.
      const prepared = new Set<number>();
      for (let i = 0; i < UNTAG_PREPARED; i++) {
        for (const idx of distinctIndices(streamOf(UNTAG_SALT, i), env.n, 20)) prepared.add(idx);
      }

      await importAll(
        env,
        [...prepared].map((idx) => ({ ...importEntry(idx), tags: BENCH_REMOVABLE })),
      );
      const t = target(TAGGING, "UntagResources");
      const removed = new Set<number>();
      let draws = 0;
      let real = 0;
      return {
        request: (i) => {
          const indices = distinctIndices(streamOf(UNTAG_SALT, i), env.n, 20);
          for (const idx of indices) {
            draws++;
            if (prepared.has(idx) && !removed.has(idx)) {
              real++;
              removed.add(idx);
            }
          }
          return {
            target: t,
            body: JSON.stringify({ ResourceARNList: indices.map(arnAt), TagKeys: BENCH_KEYS }),
          };
        },
        failed: failedResources,
        note: () =>
          `${((real / Math.max(1, draws)) * 100).toFixed(0)}% of the ${draws.toLocaleString("en-US")} ARNs ` +
          "sent (warm-up included) still carried the keys; the others were no-ops",
      };
    },
  },
  {
    id: "kms-tag-1",
    label: "KMS TagResource (1 key, 5 tags)",
    kind: "write",
    api: KMS,
    async setup(env) {
      const keys = await registerKmsKeys(env);
      const request = (i: number) => {
        const rnd = streamOf(KMS_TAG_1_SALT, i);
        const KeyId = kmsKeyArnAt(Math.floor(rnd() * keys));
        const tags = Object.entries(benchTags(rnd)).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
        return { KeyId, Tags: tags };
      };
      const probe = request(0);
      const answer = await env.call(KMS, "TagResource", probe);
      if (answer.status !== 200) throw new Error(`KMS TagResource answered ${answer.status}: ${answer.body}`);
      const listed = (await expectOk(env, KMS, "ListResourceTags", { KeyId: probe.KeyId })) as {
        Tags?: { TagKey: string; TagValue: string }[];
      };
      for (const t of probe.Tags) {
        if (!listed.Tags?.some((l) => l.TagKey === t.TagKey && l.TagValue === t.TagValue)) {
          throw new Error(`KMS TagResource did not set ${t.TagKey} on ${probe.KeyId}`);
        }
      }
      const t = target(KMS, "TagResource");
      return { request: (i) => ({ target: t, body: JSON.stringify(request(i)) }) };
    },
  },
  {
    id: "kms-untag-1",
    label: "KMS UntagResource (1 key, 5 keys)",
    kind: "write",
    api: KMS,
    async setup(env) {
      const keys = await registerKmsKeys(env, true);
      const removals = new RemovalCount();
      const request = (i: number) => {
        const k = Math.floor(streamOf(KMS_UNTAG_SALT, i)() * keys);
        removals.draw(k);
        return { KeyId: kmsKeyArnAt(k), TagKeys: BENCH_KEYS };
      };
      const probe = { KeyId: kmsKeyArnAt(keys - 1), TagKeys: BENCH_KEYS };
      const held = (await expectOk(env, KMS, "ListResourceTags", { KeyId: probe.KeyId })) as {
        Tags?: { TagKey: string }[];
      };
      if (!BENCH_KEYS.every((k) => held.Tags?.some((t) => t.TagKey === k)))
        throw new Error(`${probe.KeyId} did not carry the bench keys before KMS UntagResource`);
      // UntagResource answers 200 with an empty body, as KMS does.
      const untagged = await env.call(KMS, "UntagResource", probe);
      if (untagged.status !== 200)
        throw new Error(`KMS UntagResource answered ${untagged.status}: ${untagged.body}`);
      const listed = (await expectOk(env, KMS, "ListResourceTags", { KeyId: probe.KeyId })) as {
        Tags?: { TagKey: string }[];
      };
      if (!listed.Tags?.length || listed.Tags.some((t) => BENCH_KEYS.includes(t.TagKey)))
        throw new Error(`KMS UntagResource left ${JSON.stringify(listed.Tags)} on ${probe.KeyId}`);
      const t = target(KMS, "UntagResource");
      return {
        request: (i) => ({ target: t, body: JSON.stringify(request(i)) }),
        note: () => removals.note(),
      };
    },
  },
  {
    id: "kms-list-tags",
    label: "KMS ListResourceTags (1 key)",
    kind: "read",
    api: KMS,
    async setup(env) {
      const keys = await registerKmsKeys(env);
      const request = (i: number) => ({
        KeyId: kmsKeyArnAt(Math.floor(streamOf(KMS_LIST_SALT, i)() * keys)),
      });
      const probe = request(0);
      const listed = (await expectOk(env, KMS, "ListResourceTags", probe)) as { Tags?: unknown[] };
      if ((listed.Tags?.length ?? 0) < 5)
        throw new Error(`KMS ListResourceTags ${probe.KeyId} listed ${JSON.stringify(listed.Tags)}`);
      const t = target(KMS, "ListResourceTags");
      return { request: (i) => ({ target: t, body: JSON.stringify(request(i)) }) };
    },
  },
  ...ALIBABA_OPERATIONS,
];

/** The admin bulk import is measured while seeding; its id selects it in `--ops` like the others. */
export const IMPORT_OP = { id: "import", label: "admin bulk import" } as const;

export function operationById(id: string): OpDefinition | undefined {
  return OPERATIONS.find((o) => o.id === id);
}
