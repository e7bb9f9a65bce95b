import type { StoredTagPolicy } from "../../domain/policies.ts";
import type { Noncompliance, Tag } from "../../domain/resource.ts";
import type { AccountPolicy, PolicySource } from "../store.ts";
import type { SqlExec } from "./engine.ts";
import { marks } from "./text.ts";

const UPSERT = `INSERT INTO noncompliance (account_id, rid, region, keys_json, value_keys_json) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (account_id, rid) DO UPDATE SET keys_json = excluded.keys_json, value_keys_json = excluded.value_keys_json`;

export async function loadPolicies(exec: SqlExec): Promise<StoredTagPolicy[]> {
  const rows = await exec.query<{ name: string; content: string; targets: string; updated_at: number }>(
    "SELECT name, content, targets, updated_at FROM tag_policies ORDER BY name",
    [],
  );
  return rows.map((r) => ({
    name: r.name,
    content: r.content,
    targets: JSON.parse(r.targets) as string[],
    updatedAt: Number(r.updated_at),
  }));
}

export function decodeNoncompliance(keys: string | null, values: string | null): Noncompliance | null {
  if (keys === null || values === null) return null;
  return { noncompliantKeys: JSON.parse(keys), keysWithNoncompliantValues: JSON.parse(values) };
}

/**
 * Keeps the noncompliance records in step with the tags, inside the write transactions. The policy
 * comes from the domain's `PolicySource` at the policy revision read in the transaction — after the
 * resource row is locked, so a policy change committed before that read is applied here, and one
 * committed after it re-evaluates this resource once this transaction has released the row.
 */
export class ComplianceKeeper {
  source?: PolicySource;

  /** The account's effective policy now; null (and no further work) when none applies. */
  async policyFor(tx: SqlExec, accountId: string): Promise<AccountPolicy | null> {
    const source = this.source;
    if (!source) return null;
    const [revision] = await tx.column<number>("SELECT revision FROM policy_revision WHERE id = 1", []);
    return source.forAccount(accountId, Number(revision ?? 0), () => loadPolicies(tx));
  }

  /** Writes (or clears) one resource's record from its tags as they now stand. */
  async record(
    tx: SqlExec,
    policy: AccountPolicy,
    accountId: string,
    row: { rid: number; region: string; service: string; resource_type: string },
    tags: Tag[],
    /** Whether a record may exist (false: a compliant resource needs no delete). */
    mayExist = true,
  ): Promise<void> {
    const found = policy.evaluate(tags, { service: row.service, resourceType: row.resource_type });
    if (found) {
      await tx.query(UPSERT, [
        accountId,
        row.rid,
        row.region,
        JSON.stringify(found.noncompliantKeys),
        JSON.stringify(found.keysWithNoncompliantValues),
      ]);
    } else if (mayExist) {
      await tx.query("DELETE FROM noncompliance WHERE account_id = ? AND rid = ?", [accountId, row.rid]);
    }
  }

  /** Clears the records of resources (no policy applies any more, or they are deregistered). */
  async clear(tx: SqlExec, accountId: string, rids: number[]): Promise<void> {
    if (rids.length === 0) return;
    await tx.query(`DELETE FROM noncompliance WHERE account_id = ? AND rid IN (${marks(rids.length)})`, [
      accountId,
      ...rids,
    ]);
  }
}
