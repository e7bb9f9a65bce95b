import { setBounded } from "../../bounded-map.ts";
import type { TaggedResource } from "../../domain/resource.ts";
import { patternFilterMatches, tagFilterMatches, textMatches } from "../../domain/tag-match.ts";
import type {
  KeyQuery,
  Page,
  PatternFilter,
  TagFilterSpec,
  TaggedQuery,
  TagPairCount,
  TagPairQuery,
  TextMatch,
  TypeFilterSpec,
  ValueQuery,
} from "../store.ts";
import { counterKey } from "./bulk.ts";
import { decodeNoncompliance } from "./compliance.ts";
import type { SqlExec } from "./engine.ts";
import { chunks, decodeTags, LISTING_SELECT, type ListingRow, toListed } from "./rows.ts";
import { marks } from "./text.ts";
import type { TurnSharedReads } from "./turn-reads.ts";

const LISTING_R = LISTING_SELECT.replace(/(^|, )/g, "$1r.");

/** A filter satisfied by at most this many (key, value) pairs can drive: one index range per pair. */
const UNION_MAX_PAIRS = 32;
/** Keys or values read per statement while matching a pattern. */
const MATCH_SLICE = 500;
/** The planner's first and last caps on counting a filter's resources (see `fewest`). */
const FIRST_COUNT_CAP = 256;
const LAST_COUNT_CAP = 65_536;

/** How many resources carry a (key, value) pair, up to the last parameter. */
const COUNT_PAIR = `SELECT COUNT(*) FROM (SELECT 1 FROM tags WHERE account_id = ? AND region = ? AND key = ? AND value = ?
  LIMIT ?) AS c`;

/**
 * A key's distinct values in the scope from a value on, at most the last parameter: each step seeks
 * the next value in the tag tree, (account, region, key, value, rid). The count column stops the
 * recursion (PostgreSQL allows no LIMIT inside it).
 */
function distinctValuesText(from: ">=" | ">"): string {
  return `WITH RECURSIVE v (value, n) AS (
    SELECT (SELECT value FROM tags WHERE account_id = ? AND region = ? AND key = ? AND value ${from} ?
      ORDER BY value LIMIT 1), 1
    UNION ALL
    SELECT (SELECT t.value FROM tags t WHERE t.account_id = ? AND t.region = ? AND t.key = ? AND t.value > v.value
      ORDER BY t.value LIMIT 1), v.n + 1
    FROM v WHERE v.value IS NOT NULL AND v.n < ?
  ) SELECT value FROM v WHERE value IS NOT NULL`;
}
const DISTINCT_VALUES_FROM = distinctValuesText(">=");
const DISTINCT_VALUES_AFTER = distinctValuesText(">");

type Pair = [key: string, value: string];

/** A tag filter as the planner sees it: its key and values as matches, and the test on a tag set. */
interface Filter {
  key: TextMatch;
  values: TextMatch[];
  matches(tags: Map<string, string>): boolean;
}

function exactFilter(f: TagFilterSpec): Filter {
  return {
    key: { kind: "exact", text: f.key },
    values: f.values.map((text) => ({ kind: "exact", text })),
    matches: (tags) => tagFilterMatches(f, tags),
  };
}

function patternFilter(f: PatternFilter): Filter {
  return { key: f.key, values: f.values, matches: (tags) => patternFilterMatches(f, tags) };
}

/** Candidates verified per round, at most; the first round asks for one page's worth. */
const MAX_BATCH = 2000;

/**
 * A source of resource ids in ascending order, each a candidate for the page: a statement over an
 * ordered index range that stops at its LIMIT, so a page costs the same at any inventory size.
 */
type Candidates = (after: number, limit: number) => Statement;

interface Statement {
  text: string;
  params: unknown[];
}

const NONE: Statement = { text: "SELECT rid FROM resources WHERE 1 = 0", params: [] };

/**
 * The tagging listings. GetResources-style queries page by resource id: a driving filter yields
 * candidate ids in order, the remaining filters are checked on those candidates, and rounds repeat
 * until a page (plus one, to know whether more follow) is full or the candidates run out.
 */
export class Listings {
  /** Results by scope revision (PostgreSQL), as promises: see `remembered`. */
  private readonly results = new Map<string, Promise<unknown>>();
  constructor(
    private readonly reader: SqlExec,
    /**
     * With scope revisions (PostgreSQL): the reads of one turn of the event loop, shared (see
     * `remembered` and `revisionOf`). Without (SQLite), the reader's own cache serves.
     */
    private readonly turnReads?: TurnSharedReads,
    /** SqlEngine.arrayParams: candidate ids go as one array (see `verify`). */
    private readonly arrayParams = false,
  ) {}

  /**
   * With scope revisions (PostgreSQL), a result is kept under the revision of its (account, region)
   * read before it was computed: a write raises the revision in its own transaction, so a reader on
   * any instance that sees the same revision may reuse the result, and one that sees a newer
   * revision computes afresh. Without them (SQLite) the result is kept with the reader connection's
   * own results, which every commit clears.
   */
  private async remembered<T>(
    accountId: string,
    region: string,
    id: unknown,
    compute: () => Promise<T>,
    memo = true,
  ): Promise<T> {
    if (!memo) return compute();
    if (!this.turnReads) {
      if (!this.reader.memo) return compute();
      return this.reader.memo<T>(`${accountId}\u0000${region}\u0000${JSON.stringify(id)}`, compute);
    }
    const revision = await this.revisionOf(this.turnReads, accountId, region);
    const key = `${accountId}\u0000${region}\u0000${revision}\u0000${JSON.stringify(id)}`;
    // The promise is kept, so that calls asking the same while it is computed share it (a listing
    // pushed out of the map used to be computed by every concurrent caller); a failure is not kept.
    const kept = this.results.get(key) as Promise<T> | undefined;
    if (kept) return kept;
    const value = compute();
    setBounded(this.results, key, value, 256);
    value.catch(() => {
      if (this.results.get(key) === value) this.results.delete(key);
    });
    return value;
  }

  /**
   * The scope's revision, read once for every read asked in this turn of the event loop (see
   * `TurnSharedReads`): under concurrent requests this spares most of the round trips a cached
   * answer costs.
   */
  private async revisionOf(turnReads: TurnSharedReads, accountId: string, region: string): Promise<unknown> {
    const [row] = await turnReads.rows<[unknown]>(
      "SELECT revision FROM revisions WHERE account_id = ? AND region = ?",
      [accountId, region],
    );
    return row?.[0] ?? 0;
  }

  queryTagged(q: TaggedQuery): Promise<Page<TaggedResource>> {
    return this.remembered(q.accountId, q.region, ["queryTagged", q], () => this.computeTagged(q));
  }

  private async computeTagged(q: TaggedQuery): Promise<Page<TaggedResource>> {
    const page = await this.pageTagged(q);
    if (q.withCompliance) await this.attachCompliance(q.accountId, page.items);
    return page;
  }

  /** Sets `compliance` on each listed resource: one read of the page's noncompliance records. */
  private async attachCompliance(accountId: string, items: TaggedResource[]): Promise<void> {
    const byRid = new Map<number, TaggedResource>();
    for (const item of items) {
      item.compliance = null;
      byRid.set(ridOf(item), item);
    }
    for (const chunk of chunks([...byRid.keys()], 500)) {
      const rows = await this.reader.rows<[number, string, string]>(
        `SELECT rid, keys_json, value_keys_json FROM noncompliance WHERE account_id = ? AND rid IN (${marks(chunk.length)})`,
        [accountId, ...chunk],
      );
      for (const [rid, keys, values] of rows) {
        const item = byRid.get(Number(rid));
        if (item) item.compliance = decodeNoncompliance(keys, values);
      }
    }
  }

  private async pageTagged(q: TaggedQuery): Promise<Page<TaggedResource>> {
    const want = q.limit + 1;
    const { candidates, verify } = await this.plan(q);
    const found: ListingRow[] = [];
    let after = q.cursor === undefined ? 0 : Number(q.cursor);
    let batch = want;
    let tags = 0;
    if (!verify) {
      // Every candidate is a listed resource: the page is one statement.
      const c = candidates(after, want);
      found.push(
        ...(await this.reader.rows<ListingRow>(
          // Driven by the candidates, each resource looked up by its key: given `rid IN (…)`, SQLite
          // may walk the account's resources instead.
          `SELECT ${LISTING_R} FROM (${c.text}) AS c JOIN resources r ON r.rid = c.rid WHERE r.account_id = ? ORDER BY c.rid`,
          [...c.params, q.accountId],
        )),
      );
      return cut(found, q.limit, q.tagLimit, (row) => toListed(q.accountId, q.region, row));
    }
    for (;;) {
      const c = candidates(after, batch);
      const ids = (await this.reader.column<number>(c.text, c.params)).map(Number);
      if (ids.length === 0) break;
      const passed = await this.verify(q, ids, verify);
      found.push(...passed);
      for (const row of passed) tags += Math.max(1, row[4]);
      // Full: a resource more than the page holds, or more tags than it may carry (the page is cut
      // before the resource that overflows, so the next page starts there).
      if (found.length >= want || tags > (q.tagLimit ?? Number.POSITIVE_INFINITY) || ids.length < batch)
        break;
      after = ids[ids.length - 1] as number;
      batch = Math.min(MAX_BATCH, batch * 4);
    }
    return cut(found, q.limit, q.tagLimit, (row) => toListed(q.accountId, q.region, row));
  }

  /**
   * Chooses the driving source. A resource group drives by itself. Otherwise each filter is read as the
   * (key, value) pairs that satisfy it, with how many resources carry each (from the counters), and
   * the filter with the fewest resources drives: one ordered index range per pair, merged. A filter
   * whose pairs are too many to merge (a key with many values, a pattern matching many) is only
   * checked on the candidates; when every filter is such, the account's listing is walked.
   */
  private async plan(q: TaggedQuery): Promise<{ candidates: Candidates; verify?: Filter[] }> {
    const { accountId, region } = q;
    const filters: Filter[] = [
      ...q.tagFilters.map((f) => exactFilter(f)),
      ...(q.patternFilters ?? []).map((f) => patternFilter(f)),
    ];
    const verifyOr = (rest: Filter[]) => (rest.length > 0 || q.typeFilters.length > 0 ? rest : undefined);
    if (q.noncompliantOnly) {
      // Noncompliant resources are few next to the rest (and carry tags): their own index drives,
      // every other filter is checked on them.
      return {
        candidates: (after, limit) => ({
          text: "SELECT rid FROM noncompliance WHERE account_id = ? AND region = ? AND rid > ? ORDER BY rid LIMIT ?",
          params: [accountId, region, after, limit],
        }),
        verify: verifyOr(filters),
      };
    }
    if (q.resourceGroupId !== undefined) {
      const group = q.resourceGroupId;
      return {
        candidates: (after, limit) => ({
          text: `SELECT rid FROM resources WHERE account_id = ? AND region = ? AND resource_group_id = ? AND rid > ? ORDER BY rid LIMIT ?`,
          params: [accountId, region, group, after, limit],
        }),
        verify: verifyOr(filters),
      };
    }
    if (filters.length === 0) {
      return {
        candidates: (after, limit) => ({
          text: `SELECT rid FROM resources WHERE account_id = ? AND region = ? AND tagged = 1 AND rid > ?${typeClause(q.typeFilters)} ORDER BY rid LIMIT ?`,
          params: [accountId, region, after, ...typeParams(q.typeFilters), limit],
        }),
      };
    }
    const only = q.tagFilters[0];
    if (filters.length === 1 && only && only.values.length > 0) {
      // The common case, one filter with values: its ranges need no counting first.
      const pairs = only.values.map((v): Pair => [only.key, v]);
      return {
        candidates: (after, limit) => this.byPairs(accountId, region, pairs, after, limit),
        verify: verifyOr([]),
      };
    }
    const expanded: { filter: Filter; pairs: Pair[] }[] = [];
    for (const filter of filters) {
      const pairs = await this.pairsOf(accountId, region, filter);
      if (!pairs) continue;
      if (pairs.length === 0) return { candidates: () => NONE };
      expanded.push({ filter, pairs });
    }
    const best = await this.fewest(accountId, region, expanded);
    if (!best) {
      return {
        candidates: (after, limit) => ({
          text: "SELECT rid FROM resources WHERE account_id = ? AND region = ? AND tagged = 1 AND rid > ? ORDER BY rid LIMIT ?",
          params: [accountId, region, after, limit],
        }),
        verify: filters,
      };
    }
    const { filter, pairs } = best;
    return {
      candidates: (after, limit) => this.byPairs(accountId, region, pairs, after, limit),
      verify: verifyOr(filters.filter((f) => f !== filter)),
    };
  }

  /** Ids carrying one of the (key, value) pairs, ascending: one ordered index range per pair, merged. */
  private byPairs(accountId: string, region: string, pairs: Pair[], after: number, limit: number): Statement {
    const branch =
      "SELECT rid FROM (SELECT rid FROM tags WHERE account_id = ? AND region = ? AND key = ? AND value = ? AND rid > ? ORDER BY rid LIMIT ?) AS b";
    const params: unknown[] = [];
    for (const [key, value] of pairs) params.push(accountId, region, key, value, after, limit);
    if (pairs.length === 1) return { text: branch, params };
    // A resource has one value per key: only pairs of different keys can both name it.
    const distinct = new Set(pairs.map(([key]) => key)).size > 1 ? "DISTINCT " : "";
    const union = pairs.map(() => branch).join(" UNION ALL ");
    return {
      text: `SELECT ${distinct}rid FROM (${union}) AS u ORDER BY rid LIMIT ?`,
      params: [...params, limit],
    };
  }

  /**
   * The filter whose pairs name the fewest resources, counted in their index ranges up to a cap that
   * grows fourfold a round: the first round in which some filter stays under the cap decides, so the
   * counting costs a few times the smallest filter's size, never the largest's. Above the last cap
   * every filter is large, and the first drives.
   */
  private async fewest(
    accountId: string,
    region: string,
    expanded: { filter: Filter; pairs: Pair[] }[],
  ): Promise<{ filter: Filter; pairs: Pair[] } | undefined> {
    if (expanded.length <= 1) return expanded[0];
    for (let cap = FIRST_COUNT_CAP; cap <= LAST_COUNT_CAP; cap *= 4) {
      let best: { filter: Filter; pairs: Pair[]; resources: number } | undefined;
      for (const e of expanded) {
        const resources = await this.countUpTo(accountId, region, e.pairs, cap);
        if (resources < cap && (!best || resources < best.resources)) best = { ...e, resources };
      }
      if (best) return best;
    }
    return expanded[0];
  }

  /** How many resources carry the pairs (a resource carries one value per key), counted up to `cap`. */
  private async countUpTo(accountId: string, region: string, pairs: Pair[], cap: number): Promise<number> {
    let total = 0;
    for (const [key, value] of pairs) {
      const [n] = await this.reader.column<number>(COUNT_PAIR, [accountId, region, key, value, cap - total]);
      total += Number(n ?? 0);
      if (total >= cap) break;
    }
    return total;
  }

  /**
   * The (key, value) pairs that satisfy a filter and that some resource of the scope carries, or
   * undefined when they are more than UNION_MAX_PAIRS (the filter is then checked on candidates).
   */
  private async pairsOf(accountId: string, region: string, filter: Filter): Promise<Pair[] | undefined> {
    const keys =
      filter.key.kind === "exact"
        ? [filter.key.text]
        : await this.matching(
            (from, slice) =>
              this.reader.column<string>(
                "SELECT key FROM tag_keys WHERE account_id = ? AND region = ? AND key >= ? ORDER BY key LIMIT ?",
                [accountId, region, from, slice],
              ),
            filter.key,
          );
    if (!keys) return undefined;
    const pairs: Pair[] = [];
    for (const key of keys) {
      const values = new Set<string>();
      if (filter.values.length > 0 && filter.values.every((v) => v.kind === "exact")) {
        for (const { text } of filter.values) {
          if (values.has(text)) continue;
          const [n] = await this.reader.column<number>(COUNT_PAIR, [accountId, region, key, text, 1]);
          if (Number(n ?? 0) > 0) values.add(text);
        }
      } else {
        const wanted = filter.values.length === 0 ? [{ kind: "prefix", text: "" } as const] : filter.values;
        for (const match of wanted) {
          const found = await this.matching(
            (from, slice) => this.distinctValues(accountId, region, key, from, true, slice),
            match,
          );
          if (!found) return undefined;
          for (const value of found) values.add(value);
        }
      }
      for (const value of values) pairs.push([key, value]);
      if (pairs.length > UNION_MAX_PAIRS) return undefined;
    }
    return pairs;
  }

  /**
   * The texts of an ordered range (a scope's keys, a key's values) that a text match accepts, at most
   * UNION_MAX_PAIRS (else undefined). A prefix reads its own range; a substring reads the range in
   * slices — distinct keys or values, never the resources or their tags.
   */
  private async matching(
    read: (from: string, slice: number) => Promise<string[]>,
    match: TextMatch,
  ): Promise<string[] | undefined> {
    const out: string[] = [];
    let from = match.kind === "substring" ? "" : match.text;
    let first = true;
    // A prefix's texts are consecutive: one more than the cap tells all there is to know.
    const slice = match.kind === "substring" ? MATCH_SLICE : UNION_MAX_PAIRS + 2;
    for (;;) {
      const texts = await read(from, slice);
      for (const s of texts) {
        if (!first && s === from) continue;
        if (match.kind !== "substring" && !s.startsWith(match.text)) return out;
        if (!textMatches(match, s)) continue;
        out.push(s);
        if (out.length > UNION_MAX_PAIRS) return undefined;
      }
      if (texts.length < slice) return out;
      from = texts[texts.length - 1] as string;
      first = false;
    }
  }

  /**
   * Up to `limit` distinct values of a key in the scope, in order, from `from` (included or not):
   * read from the tag rows themselves, one index seek per value (a recursive query stepping from each
   * value to the next), so a value carried by a million resources costs what a unique one does.
   */
  private distinctValues(
    accountId: string,
    region: string,
    key: string,
    from: string,
    inclusive: boolean,
    limit: number,
  ): Promise<string[]> {
    return this.reader.column<string>(inclusive ? DISTINCT_VALUES_FROM : DISTINCT_VALUES_AFTER, [
      accountId,
      region,
      key,
      from,
      accountId,
      region,
      key,
      limit,
    ]);
  }

  /**
   * The candidates that also pass the type filters (in SQL) and the other tag filters (on the tags
   * the row carries: the tag tree is keyed by value, so "this resource has key K" is no lookup there).
   */
  private async verify(q: TaggedQuery, ids: number[], filters: Filter[]): Promise<ListingRow[]> {
    // Driven by the candidate ids, each looked up by its key: given `account_id = ? AND rid IN (…)`,
    // SQLite walks the account's (account, name) index instead — every resource of the account. On
    // PostgreSQL CROSS JOIN does not fix the join order: while the table had no statistics (after a
    // bulk import, before an ANALYZE) the planner took the account's rows for a few and compared each
    // with every id, 0.3–0.7 s a call at 20,000 resources; `rid = ANY(array)` is read as index keys.
    const rows = this.arrayParams
      ? await this.reader.rows<ListingRow>(
          `SELECT ${LISTING_R} FROM resources r WHERE r.account_id = ? AND r.rid = ANY(CAST(? AS BIGINT[]))${typeClause(q.typeFilters, "r.")} ORDER BY r.rid`,
          [q.accountId, ids, ...typeParams(q.typeFilters)],
        )
      : await this.reader.rows<ListingRow>(
          `WITH c (rid) AS (VALUES ${ids.map(() => "(CAST(? AS BIGINT))").join(", ")})
       SELECT ${LISTING_R} FROM c CROSS JOIN resources r
       WHERE r.rid = c.rid AND r.account_id = ?${typeClause(q.typeFilters, "r.")} ORDER BY r.rid`,
          [...ids, q.accountId, ...typeParams(q.typeFilters)],
        );
    if (filters.length === 0) return rows;
    return rows.filter((row) => {
      const tags = decodeTags(row[5]);
      return filters.every((f) => f.matches(tags));
    });
  }

  /**
   * Tagged or previously tagged resources among `names` in the region, in the order asked. Region and
   * the tagged flag are checked here, not in SQL: given them, SQLite prefers the listing index and
   * scans the whole region instead of looking each name up in the unique (account, name) index.
   */
  getTagged(
    accountId: string,
    region: string,
    names: string[],
    withCompliance = false,
  ): Promise<TaggedResource[]> {
    // Not kept whole (`memo: false`): lists of ARNs rarely repeat, every kept result is old-generation
    // garbage for V8 once pushed out (peak RSS), and on PostgreSQL each pushed out a listing asked
    // again and again (a bounded map): calls naming random resources between repeated filtered
    // listings made those compute anew every 256 calls, several at once (p99 0.3 s at 10k). SQLite's
    // statements keep their rows anyway.
    return this.remembered(
      accountId,
      region,
      ["getTagged", names, withCompliance],
      async () => {
        const found = await this.computeGetTagged(accountId, region, names);
        if (withCompliance) await this.attachCompliance(accountId, found);
        return found;
      },
      false,
    );
  }

  private async computeGetTagged(
    accountId: string,
    region: string,
    names: string[],
  ): Promise<TaggedResource[]> {
    const byName = new Map<string, TaggedResource>();
    for (const chunk of chunks([...new Set(names)], 500)) {
      const rows = await this.reader.rows<[...ListingRow, string, number]>(
        `SELECT ${LISTING_SELECT}, region, tagged FROM resources WHERE account_id = ? AND name IN (${marks(chunk.length)})`,
        [accountId, ...chunk],
      );
      for (const row of rows) {
        if (row[6] === region && row[7] === 1)
          byName.set(row[1], toListed(accountId, region, row.slice(0, 6) as ListingRow));
      }
    }
    return names.flatMap((n) => {
      const hit = byName.get(n);
      byName.delete(n);
      return hit ? [hit] : [];
    });
  }

  /**
   * DescribeTags' page of (key, value) pairs with their counts by resource type, and the scope's number
   * of pairs. Kept like the other listings: the counters are written in the transactions that raise
   * the scope's revision (PostgreSQL) or commit on the file (SQLite).
   */
  describeTagPairs(q: TagPairQuery): Promise<{ total: number; items: TagPairCount[] }> {
    return this.remembered(q.accountId, q.region, ["pairs", q], () => this.computePairs(q));
  }

  private async computePairs(q: TagPairQuery): Promise<{ total: number; items: TagPairCount[] }> {
    const where = ["account_id = ?", "region = ?", "service = ?"];
    const params: unknown[] = [q.accountId, q.region, q.service];
    if (q.resourceType !== undefined) {
      where.push("resource_type = ?");
      params.push(q.resourceType);
    }
    if (q.tags && q.tags.length > 0) {
      where.push(
        `(${q.tags.map((t) => (t.value === undefined ? "key = ?" : "(key = ? AND value = ?)")).join(" OR ")})`,
      );
      for (const t of q.tags) params.push(t.key, ...(t.value === undefined ? [] : [t.value]));
    }
    const scope = `FROM tag_type_values WHERE ${where.join(" AND ")}`;
    const [total] = await this.reader.column<number>(
      `SELECT COUNT(*) FROM (SELECT key, value ${scope} GROUP BY key, value) AS pairs`,
      params,
    );
    // Page numbers are the API's own: an offset into the scope's distinct pairs, not into resources.
    const page = await this.reader.rows<[string, string]>(
      `SELECT key, value ${scope} GROUP BY key, value ORDER BY key, value LIMIT ? OFFSET ?`,
      [...params, q.limit, q.offset],
    );
    if (page.length === 0) return { total: Number(total ?? 0), items: [] };
    const counted = await this.reader.rows<[string, string, string, number]>(
      `SELECT key, value, resource_type, resources ${scope}
       AND (${page.map(() => "(key = ? AND value = ?)").join(" OR ")})`,
      [...params, ...page.flat()],
    );
    const items = new Map(page.map(([key, value]) => [counterKey(key, value), { key, value, counts: {} }]));
    for (const [key, value, type, n] of counted) {
      const item = items.get(counterKey(key, value)) as TagPairCount;
      item.counts[type] = Number(n);
    }
    return { total: Number(total ?? 0), items: [...items.values()] };
  }

  listTagKeys(q: KeyQuery): Promise<Page<string>> {
    return this.remembered(q.accountId, q.region, ["keys", q], () => this.computeKeys(q));
  }

  private async computeKeys(q: KeyQuery): Promise<Page<string>> {
    const keys = await this.reader.column<string>(
      "SELECT key FROM tag_keys WHERE account_id = ? AND region = ? AND key > ? ORDER BY key LIMIT ?",
      [q.accountId, q.region, q.cursor ?? "", q.limit + 1],
    );
    return pageOf(keys, q.limit);
  }

  listTagValues(q: ValueQuery): Promise<Page<string>> {
    return this.remembered(q.accountId, q.region, ["values", q], () => this.computeValues(q));
  }

  private async computeValues(q: ValueQuery): Promise<Page<string>> {
    // The empty value is a real value: a first page starts at it.
    const values = await this.distinctValues(
      q.accountId,
      q.region,
      q.key,
      q.cursor ?? "",
      q.cursor === undefined,
      q.limit + 1,
    );
    return pageOf(values, q.limit);
  }
}

function ridOf(item: TaggedResource): number {
  return (item as unknown as { rid: number }).rid;
}

export function typeClause(filters: TypeFilterSpec[], prefix = ""): string {
  if (filters.length === 0) return "";
  const parts = filters.map((f) =>
    f.resourceType === undefined
      ? `${prefix}service = ?`
      : `(${prefix}service = ? AND ${prefix}resource_type = ?)`,
  );
  return ` AND (${parts.join(" OR ")})`;
}

export function typeParams(filters: TypeFilterSpec[]): string[] {
  return filters.flatMap((f) => (f.resourceType === undefined ? [f.service] : [f.service, f.resourceType]));
}

/** The page: at most `limit` resources and, when given, `tagLimit` tags (an untagged one counts 1). */
function cut(
  rows: ListingRow[],
  limit: number,
  tagLimit: number | undefined,
  toItem: (row: ListingRow) => TaggedResource,
): Page<TaggedResource> {
  const items: TaggedResource[] = [];
  let budget = tagLimit ?? Number.POSITIVE_INFINITY;
  for (const row of rows) {
    const cost = Math.max(1, row[4]);
    if (items.length === limit || cost > budget) {
      const last = items.at(-1);
      return { items, cursor: last === undefined ? undefined : String(rows[items.length - 1]?.[0]) };
    }
    budget -= cost;
    items.push(toItem(row));
  }
  return { items };
}

function pageOf(values: string[], limit: number): Page<string> {
  if (values.length <= limit) return { items: values };
  const items = values.slice(0, limit);
  return { items, cursor: items.at(-1) };
}
