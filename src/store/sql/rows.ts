import type { Selectable } from "kysely";
import type {
  HeldResource,
  Noncompliance,
  ResourceRecord,
  Tag,
  TaggedResource,
} from "../../domain/resource.ts";
import type { DB } from "./schema.ts";

/** A resources row as the tagging queries read it (RESOURCE_SELECT). */
export type ResourceRow = Selectable<DB["resources"]>;

export const RESOURCE_SELECT =
  "rid, account_id, cloud, region, partition, service, resource_type, resource_id, name, resource_group_id, state, tagged, tag_count, tags_json";

/** A resources row read whole (RESOURCE_SELECT) as the record it holds and the tags it carries. */
export function toHeld(row: ResourceRow): HeldResource {
  return { ...toRecord(row), tags: decodeTagList(row.tags_json) };
}

export function toRecord(row: Omit<ResourceRow, "tagged" | "tag_count" | "tags_json">): ResourceRecord {
  return {
    cloud: row.cloud as ResourceRecord["cloud"],
    accountId: row.account_id,
    region: row.region,
    partition: row.partition,
    service: row.service,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    name: row.name,
    resourceGroupId: row.resource_group_id,
    state: row.state,
  };
}

/** The columns a resource is registered with, in the order of `resourceValues`. */
export const RESOURCE_COLUMNS =
  "account_id, cloud, region, partition, service, resource_type, resource_id, name, resource_group_id, state";
export const RESOURCE_COLUMN_COUNT = RESOURCE_COLUMNS.split(",").length;

/** A resource's values for `RESOURCE_COLUMNS`, in their order. */
export function resourceValues(r: ResourceRecord): (string | null)[] {
  return [
    r.accountId,
    r.cloud,
    r.region,
    r.partition,
    r.service,
    r.resourceType,
    r.resourceId,
    r.name,
    r.resourceGroupId,
    r.state,
  ];
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A resource's tags kept beside it as JSON, sorted by key, in the shape the AWS APIs answer with
 * (`[{"Key":…,"Value":…}]`): a listing page is one query, and its JSON goes out without rebuilding.
 * The tags table stays the index for filters, the value listings and the key counts.
 */
export function encodeTags(tags: Iterable<[string, string]>): string {
  const sorted = [...tags].sort((a, b) => compareText(a[0], b[0]));
  return JSON.stringify(sorted.map(([Key, Value]) => ({ Key, Value })));
}

export function decodeTags(json: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of JSON.parse(json) as { Key: string; Value: string }[]) out.set(t.Key, t.Value);
  return out;
}

/** `tags_json` as a list of tags, in its order (by key). */
export function decodeTagList(json: string): Tag[] {
  return (JSON.parse(json) as { Key: string; Value: string }[]).map((t) => ({ key: t.Key, value: t.Value }));
}

/** The columns a listing reads: few, because each column of each row costs as much as the query. */
export const LISTING_SELECT = "rid, name, service, resource_type, tag_count, tags_json";

/** A listing row as an array, in LISTING_SELECT's order. */
export type ListingRow = [
  rid: number,
  name: string,
  service: string,
  resourceType: string,
  tagCount: number,
  tagsJson: string,
];

/** A listed resource; `tags` is decoded from `tagsJson` only when something asks for it. */
class Listed implements TaggedResource {
  private decoded?: Tag[];
  readonly name: string;
  readonly service: string;
  readonly resourceType: string;
  readonly tagsJson: string;
  readonly rid: number;
  compliance?: Noncompliance | null;

  constructor(
    readonly accountId: string,
    readonly region: string,
    row: ListingRow,
  ) {
    [this.rid, this.name, this.service, this.resourceType, , this.tagsJson] = row;
    this.rid = Number(this.rid);
  }

  get tags(): Tag[] {
    this.decoded ??= decodeTagList(this.tagsJson);
    return this.decoded;
  }
}

export function toListed(accountId: string, region: string, row: ListingRow): TaggedResource {
  return new Listed(accountId, region, row);
}

export function groupNames(resources: ResourceRecord[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of resources) {
    const list = out.get(r.accountId);
    if (list) list.push(r.name);
    else out.set(r.accountId, [r.name]);
  }
  return out;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
