import type { TaggedResource } from "../../domain/resource.ts";
import type { KeyQuery, Page, TagFilterSpec, TaggedQuery, TypeFilterSpec, ValueQuery } from "../store.ts";
import type { SqlExec } from "./engine.ts";
import { chunks, decodeTags, LISTING_SELECT, type ListingRow, toListed } from "./rows.ts";
import { marks } from "./text.ts";

const LISTING_R = LISTING_SELECT.replace(/(^|, )/g, "$1r.");

/** A key-only filter with at most this many distinct values is read value by value, in rid order. */
const UNION_MAX_VALUES = 32;
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
  /** Results by scope revision (PostgreSQL): see `remembered`. */
  private readonly results = new Map<string, unknown>();

  constructor(
    private readonly reader: SqlExec,
    private readonly byRevision = false,
  ) {}

  /**
   * With scope revisions (PostgreSQL), a result is kept under the revision of its (account, region)
   * read before it was computed: a write raises the revision in its own transaction, so a reader on
   * any instance that sees the same revision may reuse the result, and one that sees a newer
   * revision computes afresh. Without them (SQLite) the reader connection has its own cache.
   */
  private async remembered<T>(
    accountId: string,
    region: string,
    id: unknown,
    compute: () => Promise<T>,
  ): Promise<T> {
    if (!this.byRevision) return compute();
    const [revision] = await this.reader.column<number>(
      "SELECT revision FROM revisions WHERE account_id = ? AND region = ?",
      [accountId, region],
    );
    const key = `${accountId}\u0000${region}\u0000${revision ?? 0}\u0000${JSON.stringify(id)}`;
    if (this.results.has(key)) return this.results.get(key) as T;
    const value = await compute();
    if (this.results.size >= 256) {
      const oldest = this.results.keys().next().value;
      if (oldest !== undefined) this.results.delete(oldest);
    }
    this.results.set(key, value);
    return value;
  }

  private run<R>(text: string, params: readonly unknown[]) {
    return this.reader.query<R>(text, params);
  }

  queryTagged(q: TaggedQuery): Promise<Page<TaggedResource>> {
    return this.remembered(q.accountId, q.region, ["queryTagged", q], () => this.computeTagged(q));
  }

  private async computeTagged(q: TaggedQuery): Promise<Page<TaggedResource>> {
    const want = q.limit + 1;
    const { candidates, verify } = await this.plan(q);
    const found: ListingRow[] = [];
    let after = q.cursor === undefined ? 0 : Number(q.cursor);
    let batch = want;
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
      found.push(...(await this.verify(q, ids, verify)));
      if (found.length >= want || ids.length < batch) break;
      after = ids[ids.length - 1] as number;
      batch = Math.min(MAX_BATCH, batch * 4);
    }
    return cut(found, q.limit, q.tagLimit, (row) => toListed(q.accountId, q.region, row));
  }

  /** Chooses the driving source: the most selective filter with values, else a key, else the listing. */
  private async plan(q: TaggedQuery): Promise<{ candidates: Candidates; verify?: TagFilterSpec[] }> {
    const { accountId, region } = q;
    if (q.tagFilters.length === 0) {
      return {
        candidates: (after, limit) => ({
          text: `SELECT rid FROM resources WHERE account_id = ? AND region = ? AND tagged = 1 AND rid > ?${typeClause(q.typeFilters)} ORDER BY rid LIMIT ?`,
          params: [accountId, region, after, ...typeParams(q.typeFilters), limit],
        }),
      };
    }
    const withValues = q.tagFilters.filter((f) => f.values.length > 0);
    let driver: TagFilterSpec | undefined;
    let values: string[] = [];
    if (withValues.length === 1) {
      driver = withValues[0] as TagFilterSpec;
      values = driver.values;
    } else if (withValues.length > 1) {
      const estimates = await Promise.all(withValues.map((f) => this.estimate(accountId, region, f)));
      const best = estimates.indexOf(Math.min(...estimates));
      driver = withValues[best] as TagFilterSpec;
      values = driver.values;
    } else {
      // Key-only filters: drive by the rarest key, value by value when it has few distinct values.
      const counts = await Promise.all(q.tagFilters.map((f) => this.keyCount(accountId, region, f.key)));
      const best = counts.indexOf(Math.min(...counts));
      const key = q.tagFilters[best] as TagFilterSpec;
      const distinct = await this.run<{ value: string }>(
        "SELECT value FROM tag_values WHERE account_id = ? AND region = ? AND key = ? ORDER BY value LIMIT ?",
        [accountId, region, key.key, UNION_MAX_VALUES + 1],
      );
      if (distinct.length <= UNION_MAX_VALUES) {
        driver = key;
        values = distinct.map((d) => d.value);
        if (values.length === 0) return { candidates: () => NONE };
      }
    }
    if (!driver) {
      // A key with many distinct values is common across resources: walk the listing and check it.
      return {
        candidates: (after, limit) => ({
          text: "SELECT rid FROM resources WHERE account_id = ? AND region = ? AND tagged = 1 AND rid > ? ORDER BY rid LIMIT ?",
          params: [accountId, region, after, limit],
        }),
        verify: q.tagFilters,
      };
    }
    const rest = q.tagFilters.filter((f) => f !== driver);
    const key = driver.key;
    return {
      candidates: (after, limit) => this.byValues(accountId, region, key, values, after, limit),
      verify: rest.length > 0 || q.typeFilters.length > 0 ? rest : undefined,
    };
  }

  /** Ids carrying key=one of values, ascending: one ordered index range per value, merged. */
  private byValues(
    accountId: string,
    region: string,
    key: string,
    values: string[],
    after: number,
    limit: number,
  ): Statement {
    const branch =
      "SELECT rid FROM (SELECT rid FROM tags WHERE account_id = ? AND region = ? AND key = ? AND value = ? AND rid > ? ORDER BY rid LIMIT ?) AS b";
    const params: unknown[] = [];
    for (const v of values) params.push(accountId, region, key, v, after, limit);
    if (values.length === 1) return { text: branch, params };
    const union = values.map(() => branch).join(" UNION ALL ");
    return { text: `SELECT rid FROM (${union}) AS u ORDER BY rid LIMIT ?`, params: [...params, limit] };
  }

  private async estimate(accountId: string, region: string, f: TagFilterSpec): Promise<number> {
    const rows = await this.run<{ n: number | null }>(
      `SELECT SUM(resources) AS n FROM tag_values WHERE account_id = ? AND region = ? AND key = ? AND value IN (${marks(f.values.length)})`,
      [accountId, region, f.key, ...f.values],
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async keyCount(accountId: string, region: string, key: string): Promise<number> {
    const rows = await this.run<{ resources: number }>(
      "SELECT resources FROM tag_keys WHERE account_id = ? AND region = ? AND key = ?",
      [accountId, region, key],
    );
    return Number(rows[0]?.resources ?? 0);
  }

  /**
   * The candidates that also pass the type filters (in SQL) and the other tag filters (on the tags
   * the row carries: the tag tree is keyed by value, so "this resource has key K" is no lookup there).
   */
  private async verify(q: TaggedQuery, ids: number[], filters: TagFilterSpec[]): Promise<ListingRow[]> {
    const rows = await this.reader.rows<ListingRow>(
      `SELECT ${LISTING_R} FROM resources r
       WHERE r.account_id = ? AND r.rid IN (${marks(ids.length)})${typeClause(q.typeFilters, "r.")} ORDER BY r.rid`,
      [q.accountId, ...ids, ...typeParams(q.typeFilters)],
    );
    if (filters.length === 0) return rows;
    const wanted = filters.map((f) => ({
      key: f.key,
      values: f.values.length > 0 ? new Set(f.values) : null,
    }));
    return rows.filter((row) => {
      const tags = decodeTags(row[5]);
      return wanted.every((f) => {
        const value = tags.get(f.key);
        return value !== undefined && (f.values === null || f.values.has(value));
      });
    });
  }

  /**
   * Tagged or previously tagged resources among `names` in the region, in the order asked. Region and
   * the tagged flag are checked here, not in SQL: given them, SQLite prefers the listing index and
   * scans the whole region instead of looking each name up in the unique (account, name) index.
   */
  getTagged(accountId: string, region: string, names: string[]): Promise<TaggedResource[]> {
    return this.remembered(accountId, region, ["getTagged", names], () =>
      this.computeGetTagged(accountId, region, names),
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
    // The empty value is a real value; a first page starts before it.
    const values = await this.reader.column<string>(
      q.cursor === undefined
        ? "SELECT value FROM tag_values WHERE account_id = ? AND region = ? AND key = ? ORDER BY value LIMIT ?"
        : "SELECT value FROM tag_values WHERE account_id = ? AND region = ? AND key = ? AND value > ? ORDER BY value LIMIT ?",
      q.cursor === undefined
        ? [q.accountId, q.region, q.key, q.limit + 1]
        : [q.accountId, q.region, q.key, q.cursor, q.limit + 1],
    );
    return pageOf(values, q.limit);
  }
}

function typeClause(filters: TypeFilterSpec[], prefix = ""): string {
  if (filters.length === 0) return "";
  const parts = filters.map((f) =>
    f.resourceType === undefined
      ? `${prefix}service = ?`
      : `(${prefix}service = ? AND ${prefix}resource_type = ?)`,
  );
  return ` AND (${parts.join(" OR ")})`;
}

function typeParams(filters: TypeFilterSpec[]): string[] {
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
