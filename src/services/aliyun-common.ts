import type { Deps } from "../deps.ts";
import { resolveResourceInput } from "../domain/inventory.ts";
import type { HeldResource, ResourceRecord, Tag } from "../domain/resource.ts";
import { patternFilterMatches, tagFilterMatches } from "../domain/tag-match.ts";
import { ALIBABA_TAG_RULES, perResourceLimit, textProblem } from "../domain/tags.ts";
import type { ServiceError } from "../errors.ts";
import type { RpcContext } from "../protocols/aliyun-rpc.ts";
import type { PatternFilter, TagFilterSpec } from "../store/store.ts";
import { codePoints } from "../validation.ts";

/**
 * What the Alibaba products (ECS, KMS) share: the tag rules, resolving the resources a request names,
 * writing and removing tags, and listing tag rows. Each product brings its own error codes.
 */
export type AliyunContext = RpcContext<Deps>;

const RULES = ALIBABA_TAG_RULES;

/** Which part of a tag breaks Alibaba's rules, and why; undefined when the tag is acceptable. */
export interface TagRuleProblem {
  part: "Key" | "Value";
  why: string;
}

/**
 * A tag against Alibaba's rules: key 1–128 characters, value up to 128, neither starting with
 * `aliyun` or `acs:` nor containing `http://` or `https://`.
 */
export function tagRuleProblem(key: string, value: string): TagRuleProblem | undefined {
  const keyLength = codePoints(key);
  if (keyLength < RULES.keyLength.min || keyLength > RULES.keyLength.max)
    return {
      part: "Key",
      why: `it must be ${RULES.keyLength.min} to ${RULES.keyLength.max} characters long`,
    };
  const keyText = textProblem(key, RULES.reservedKeyPrefixes, RULES);
  if (keyText) return { part: "Key", why: keyText };
  if (codePoints(value) > RULES.valueLength.max)
    return { part: "Value", why: `it must be at most ${RULES.valueLength.max} characters long` };
  const valueText = textProblem(value, RULES.reservedValuePrefixes ?? [], RULES);
  if (valueText) return { part: "Value", why: valueText };
  return undefined;
}

/** Why a key may not be named in a removal (empty, too long, reserved), or undefined. */
export function removableKeyProblem(key: string): string | undefined {
  const length = codePoints(key);
  if (length < RULES.keyLength.min || length > RULES.keyLength.max)
    return `it must be ${RULES.keyLength.min} to ${RULES.keyLength.max} characters long`;
  return textProblem(key, RULES.reservedKeyPrefixes, RULES);
}

/** A key given twice (`exact`), or two keys equal but for case (`case`); undefined when distinct. */
export function duplicateKeys(keys: string[]): "exact" | "case" | undefined {
  if (new Set(keys).size < keys.length) return "exact";
  if (new Set(keys.map((k) => k.toLowerCase())).size < keys.length) return "case";
  return undefined;
}

/** The record of an Alibaba resource of the caller's account, as its id names it. */
function alibabaRecord(
  ctx: AliyunContext,
  target: { region: string; service: string; resourceType: string },
  resourceId: string,
): ResourceRecord {
  const { region, service, resourceType } = target;
  return resolveResourceInput({
    cloud: "alibaba",
    accountId: ctx.accountId,
    region,
    service,
    resourceType,
    resourceId,
  });
}

/**
 * The records of resources a write names, in the caller's account and the request's region, with the
 * tags they carry now (none for a resource tagd has not seen); ids already checked for their type's
 * form by the caller. In strict inventory mode every one must be registered (`notFound` otherwise).
 * The canonical name carries the account and the region, so another account's resource of the same
 * id is simply not this one: it stays invisible.
 */
export async function resolveRecords(
  ctx: AliyunContext,
  target: { region: string; service: string; resourceType: string },
  ids: string[],
  notFound: () => ServiceError,
): Promise<HeldResource[]> {
  const records = [...new Set(ids)].map((resourceId) => alibabaRecord(ctx, target, resourceId));
  const known = await ctx.deps.store.getResources(
    ctx.accountId,
    records.map((r) => r.name),
  );
  if (ctx.deps.inventory !== "open" && records.some((r) => !known.has(r.name))) throw notFound();
  return records.map((r) => known.get(r.name) ?? { ...r, tags: [] });
}

/** How many tags a resource would carry with `set` written over `current`. */
export function merged(current: Tag[], set: Tag[]): number {
  const keys = new Set(current.map((t) => t.key));
  for (const t of set) keys.add(t.key);
  return keys.size;
}

/**
 * A store `check` refusing more than 20 tags on a resource; it runs inside the write transaction, so
 * concurrent writers cannot pass the limit together.
 */
export const withinQuota = perResourceLimit(RULES);

/** The errors a product answers a write with. */
export interface WriteErrors {
  /** The resource would carry more tags than allowed; `detail` says which and how many. */
  quota(detail: string): ServiceError;
  notFound(): ServiceError;
  /** A tag the account's effective tag policy enforces on the resource's type is not allowed. */
  policy(detail: string): ServiceError;
}

/**
 * Adds `tags` to every record, all or nothing as far as the request can tell: the per-resource limit
 * is checked on every resource (with the tags it was read with) before anything is written, and
 * again by the store in each resource's transaction (a concurrent writer that got there first makes
 * this request fail on that resource).
 */
export async function addTags(
  ctx: AliyunContext,
  records: HeldResource[],
  tags: Tag[],
  errors: WriteErrors,
): Promise<void> {
  for (const record of records) {
    const count = merged(record.tags, tags);
    if (count > RULES.maxTagsPerResource) {
      throw errors.quota(
        `The resource ${record.resourceId} would have ${count} tags; a resource can have at most ${RULES.maxTagsPerResource}.`,
      );
    }
  }
  const results = await ctx.deps.store.applyTagChanges(
    ctx.accountId,
    records.map((resource) => ({
      resource,
      register: ctx.deps.inventory === "open",
      set: tags,
      remove: [],
      check: withinQuota,
      // Keys the account's effective tag policy enforces on the type: refused inside the write. One
      // request names one resource type and sets the same tags on each, so all are refused or none.
      enforce: true,
    })),
  );
  for (const result of results) {
    if (result.ok) continue;
    if (result.kind === "ResourceNotFound") throw errors.notFound();
    if (result.kind === "PolicyViolation") throw errors.policy(result.message);
    throw errors.quota(`${result.message}.`);
  }
}

/**
 * Removes tags from every record: the given keys, or with `all` every tag. A resource tagd has never
 * seen carries no tags, so there is nothing to remove from it (open mode registers nothing here).
 * With `expect`, a key goes only while it still has the expected value: checked inside the write
 * transaction, and false is returned when a concurrent write changed it (nothing was written).
 */
export async function removeTags(
  ctx: AliyunContext,
  records: ResourceRecord[],
  removal: { keys: string[]; all: boolean; expect?: ReadonlyMap<string, string> },
): Promise<boolean> {
  if (removal.keys.length === 0 && !removal.all) return true;
  const expect = removal.expect;
  const check = expect
    ? (current: Tag[]) =>
        current.some((t) => expect.has(t.key) && expect.get(t.key) !== t.value)
          ? "changed concurrently"
          : null
    : undefined;
  const results = await ctx.deps.store.applyTagChanges(
    ctx.accountId,
    records.map((resource) => ({
      resource,
      register: false,
      set: [],
      remove: removal.keys,
      removeAll: removal.keys.length === 0 && removal.all,
      ...(check ? { check } : {}),
    })),
  );
  // Removing never adds a tag: the only refusals are a resource the inventory does not hold (nothing
  // to remove) and, with `expect`, a value that changed meanwhile.
  return results.every((r) => r.ok || r.kind === "ResourceNotFound");
}

/** One row of a `ListTagResources` answer (ECS and KMS answer the same shape). */
export interface TagRow {
  ResourceId: string;
  ResourceType: string;
  TagKey: string;
  TagValue: string;
}

/** What a `ListTagResources` query asks for, beyond the account and region. */
export interface TagRowQuery {
  region: string;
  service: string;
  resourceType: string;
  /** Exact tags every resource must carry (a key alone: any value). */
  exact: TagFilterSpec[];
  patterns: PatternFilter[];
  /** Only this resource group's resources. */
  group: string | undefined;
  /** Rows per page, at most. */
  pageRows: number;
  /** The answer to a cursor that does not fit the query. */
  badToken(): ServiceError;
}

export interface TagRowPage {
  rows: TagRow[];
  cursor?: string;
}

function rowsOf(name: string, resourceType: string, tags: Tag[]): TagRow[] {
  const resourceId = name.slice(name.indexOf("/") + 1);
  return tags.map((t) => ({
    ResourceId: resourceId,
    ResourceType: resourceType,
    TagKey: t.key,
    TagValue: t.value,
  }));
}

/**
 * The tag rows of named resources: few enough (50 ids) to gather whole and page by position.
 * Resources tagd does not hold, of another service or type, or that carry no tag, have no rows.
 */
async function tagRowsByIds(
  ctx: AliyunContext,
  q: TagRowQuery,
  ids: string[],
  cursor: string | undefined,
  resolved: HeldResource[] | undefined,
): Promise<TagRowPage> {
  let held = resolved;
  if (!held) {
    const names = ids.map((resourceId) => alibabaRecord(ctx, q, resourceId).name);
    const known = await ctx.deps.store.getResources(ctx.accountId, names);
    held = names.flatMap((name) => known.get(name) ?? []);
  }
  const rows: TagRow[] = [];
  for (const r of held) {
    if (r.service !== q.service || r.resourceType !== q.resourceType || r.tags.length === 0) continue;
    const tagMap = new Map(r.tags.map((t) => [t.key, t.value]));
    if (!q.exact.every((f) => tagFilterMatches(f, tagMap))) continue;
    if (!q.patterns.every((f) => patternFilterMatches(f, tagMap))) continue;
    if (q.group !== undefined && r.resourceGroupId !== q.group) continue;
    rows.push(...rowsOf(r.name, q.resourceType, r.tags));
  }
  const start = cursor === undefined ? 0 : Number(cursor);
  if (!Number.isSafeInteger(start) || start < 0 || start > rows.length) throw q.badToken();
  const end = start + q.pageRows;
  return { rows: rows.slice(start, end), ...(end < rows.length ? { cursor: String(end) } : {}) };
}

/**
 * The tag rows of the resources a query selects: a keyset page of resources from the store (never
 * splitting a resource's rows), flattened.
 */
async function tagRowsByQuery(
  ctx: AliyunContext,
  q: TagRowQuery,
  cursor: string | undefined,
): Promise<TagRowPage> {
  if (cursor !== undefined && !/^[0-9]{1,16}$/.test(cursor)) throw q.badToken();
  const page = await ctx.deps.store.queryTagged({
    accountId: ctx.accountId,
    region: q.region,
    tagFilters: q.exact,
    patternFilters: q.patterns,
    typeFilters: [{ service: q.service, resourceType: q.resourceType }],
    ...(q.group !== undefined ? { resourceGroupId: q.group } : {}),
    limit: q.pageRows,
    tagLimit: q.pageRows,
    cursor,
  });
  const rows = page.items.flatMap((r) => rowsOf(r.name, q.resourceType, r.tags));
  return { rows, ...(page.cursor !== undefined ? { cursor: page.cursor } : {}) };
}

/** Alibaba tokens carry no expiry of their own; tagd's outlive any sensible paging session. */
const TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * One page of a `ListTagResources` query: the rows of `ids` when given (else of the resources the
 * query selects) from the cursor `token` carries, and the token of the next page when there is one.
 * Tokens are signed and bound to the account, the region and `query` (a canonical form of the
 * request), so one issued for another query, account or region does not open.
 */
export async function tagRowPage(
  ctx: AliyunContext,
  q: TagRowQuery,
  request: {
    ids: string[];
    /** The resources `ids` name, when the caller has read them already (with their tags). */
    resolved?: HeldResource[];
    query: string;
    token: string | undefined;
  },
): Promise<{ rows: TagRow[]; nextToken?: string }> {
  const binding = { accountId: ctx.accountId, region: q.region, query: request.query };
  const cursor =
    request.token === undefined || request.token === ""
      ? undefined
      : ctx.deps.tokens.open(request.token, binding, TOKEN_TTL_MS);
  const page =
    request.ids.length > 0
      ? await tagRowsByIds(ctx, q, request.ids, cursor, request.resolved)
      : await tagRowsByQuery(ctx, q, cursor);
  return {
    rows: page.rows,
    ...(page.cursor !== undefined ? { nextToken: ctx.deps.tokens.issue(binding, page.cursor) } : {}),
  };
}
