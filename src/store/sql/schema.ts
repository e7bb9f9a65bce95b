import type { Generated } from "kysely";

/** Table shapes shared by both SQL engines. `rid` is the store's own surrogate key of a resource. */
export interface DB {
  resources: {
    rid: Generated<number>;
    account_id: string;
    cloud: string;
    region: string;
    partition: string;
    service: string;
    resource_type: string;
    resource_id: string;
    name: string;
    resource_group_id: string | null;
    state: string | null;
    /** 1 once the resource has carried a tag: GetResources lists "tagged or previously tagged" ones. */
    tagged: Generated<number>;
    tag_count: Generated<number>;
    /** The resource's tags as JSON, sorted by key (see rows.ts). */
    tags_json: Generated<string>;
  };
  /** One row per tag, keyed as the filters read them: (account, region, key, value, rid). */
  tags: {
    account_id: string;
    region: string;
    key: string;
    value: string;
    rid: number;
  };
  /** Per (account, region, key): how many resources carry the key. Rows with 0 are deleted. */
  tag_keys: {
    account_id: string;
    region: string;
    key: string;
    resources: number;
  };
  /** Per (account, region, key, value, service, resource type), Alibaba resources only. */
  tag_type_values: {
    account_id: string;
    region: string;
    key: string;
    value: string;
    service: string;
    resource_type: string;
    resources: number;
  };
  meta: {
    key: string;
    value: string;
  };
  jobs: {
    account_id: string;
    id: string;
    kind: string;
    state: string;
    payload: string;
    result: string | null;
    error: string | null;
    created_at: number;
    claimed_by: string | null;
    claimed_at: number | null;
    finished_at: number | null;
  };
  tag_policies: {
    name: string;
    content: string;
    /** JSON list of target ids. */
    targets: string;
    updated_at: number;
  };
  policy_revision: {
    id: number;
    revision: number;
    evaluated: number;
  };
  /** One row per resource noncompliant with its account's effective tag policy. */
  noncompliance: {
    account_id: string;
    rid: number;
    region: string;
    keys_json: string;
    value_keys_json: string;
  };
}
