import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseConfig } from "../../src/config.ts";
import { PolicyEngine } from "../../src/domain/compliance.ts";
import { reevaluateAccounts } from "../../src/domain/policy-admin.ts";
import type { ResourceRecord } from "../../src/domain/resource.ts";
import type { ComplianceCountQuery, ScanCursor, TagStore } from "../../src/store/store.ts";
import { ENGINES, ec2, openFresh } from "./engines.ts";

const A = "111111111111";
const B = "222222222222";

const config = parseConfig({
  accounts: [
    { id: A, cloud: "aws", management: true },
    { id: B, cloud: "aws" },
  ],
  organization: {
    id: "o-exampleorgid",
    root: "r-root",
    accounts: [A],
    units: [{ id: "ou-b", parent: "r-root", accounts: [B] }],
  },
});

const COST = JSON.stringify({
  tags: {
    costcenter: {
      tag_key: { "@@assign": "CostCenter" },
      tag_value: { "@@assign": ["100", "2*"] },
      enforced_for: { "@@assign": ["ec2:instance"] },
    },
  },
});

for (const engine of ENGINES) {
  describe(`compliance records: ${engine.name}`, { skip: engine.skip }, () => {
    let store: TagStore;
    let dispose: () => Promise<void>;
    const set = (r: ResourceRecord, tags: Record<string, string>, enforce = false) =>
      store.applyTagChanges(r.accountId, [
        {
          resource: r,
          register: true,
          set: Object.entries(tags).map(([key, value]) => ({ key, value })),
          remove: [],
          enforce,
        },
      ]);
    const countsOf = async (accountId: string, filters: Omit<ComplianceCountQuery, "accountId"> = {}) =>
      (await store.complianceOverview([accountId], filters)).counts.get(accountId) ?? [];
    const noncompliant = async (accountId = A) => {
      const page = await store.queryTagged({
        accountId,
        region: "us-east-1",
        tagFilters: [],
        typeFilters: [],
        noncompliantOnly: true,
        withCompliance: true,
        limit: 100,
      });
      return Object.fromEntries(page.items.map((r) => [r.name.split("/")[1], r.compliance]));
    };

    before(async () => {
      ({ store, dispose } = await openFresh(engine));
      store.setPolicySource(new PolicyEngine(config));
    });
    after(() => dispose());

    test("without a policy nothing is recorded and the revision stays 0", async () => {
      await set(ec2("i-early"), { costcenter: "999" });
      assert.deepEqual(await noncompliant(), {});
      assert.deepEqual(await store.policyRevision(), { revision: 0, evaluated: 0 });
    });

    test("a policy change raises the revision; re-evaluation records what breaks it", async () => {
      const revision = await store.putTagPolicy({
        name: "cost",
        content: COST,
        targets: ["r-root"],
        updatedAt: 1,
      });
      assert.equal(revision, 1);
      assert.deepEqual(await noncompliant(), {});
      await reevaluateAccounts(store, [A, B]);
      await store.markEvaluated(revision);
      assert.deepEqual(await store.policyRevision(), { revision: 1, evaluated: 1 });
      assert.deepEqual(await noncompliant(), {
        "i-early": { noncompliantKeys: ["costcenter"], keysWithNoncompliantValues: ["costcenter"] },
      });
    });

    test("each tag write keeps its resource's record current", async () => {
      await set(ec2("i-ok"), { CostCenter: "100" });
      await set(ec2("i-wild"), { CostCenter: "2500", other: "x" });
      await set(ec2("i-value"), { CostCenter: "300" });
      await set(ec2("i-case"), { costCenter: "100" });
      assert.deepEqual(await noncompliant(), {
        "i-early": { noncompliantKeys: ["costcenter"], keysWithNoncompliantValues: ["costcenter"] },
        "i-value": { noncompliantKeys: [], keysWithNoncompliantValues: ["CostCenter"] },
        "i-case": { noncompliantKeys: ["costCenter"], keysWithNoncompliantValues: [] },
      });
      await set(ec2("i-value"), { CostCenter: "200" });
      await store.applyTagChanges(A, [
        { resource: ec2("i-case"), register: false, set: [], remove: ["costCenter"] },
      ]);
      assert.deepEqual(Object.keys(await noncompliant()), ["i-early"]);
    });

    test("an enforced key refuses a noncompliant change and writes nothing", async () => {
      const [refused] = await set(ec2("i-ok"), { CostCenter: "555" }, true);
      assert.equal(refused?.ok, false);
      assert.equal(!refused?.ok && refused.kind, "PolicyViolation");
      const [wrongCase] = await set(ec2("i-ok"), { COSTCENTER: "100" }, true);
      assert.equal(wrongCase && !wrongCase.ok && wrongCase.kind, "PolicyViolation");
      const [listed] = await store.getTagged(A, "us-east-1", [ec2("i-ok").name], true);
      assert.equal(listed?.tagsJson, '[{"Key":"CostCenter","Value":"100"}]');
      assert.equal(listed?.compliance, null);
      // Other keys and other accounts' resources are not judged; B has the same policy through the root.
      assert.equal((await set(ec2("i-ok"), { other: "y" }, true))[0]?.ok, true);
    });

    test("imports are evaluated; deregistering drops the record", async () => {
      await store.upsertResources([
        { resource: ec2("i-imported"), tags: [{ key: "CostCenter", value: "7" }] },
      ]);
      assert.ok((await noncompliant())["i-imported"]);
      await store.deleteResources([{ accountId: A, name: ec2("i-imported").name }]);
      assert.equal((await noncompliant())["i-imported"], undefined);
    });

    test("noncompliant listings page by rid and combine with tag filters", async () => {
      for (let i = 0; i < 5; i++)
        await set(ec2(`i-page${i}`), { CostCenter: "bad", team: i % 2 ? "odd" : "even" });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.queryTagged({
          accountId: A,
          region: "us-east-1",
          tagFilters: [{ key: "team", values: ["even"] }],
          typeFilters: [],
          noncompliantOnly: true,
          limit: 2,
          cursor,
        });
        seen.push(...page.items.map((r) => r.name.split("/")[1] as string));
        cursor = page.cursor;
      } while (cursor);
      assert.deepEqual(seen, ["i-page0", "i-page2", "i-page4"]);
    });

    test("counts per region and type, and the report scan", async () => {
      await set(ec2("i-west", A, "us-west-2"), { CostCenter: "nope" });
      const counts = await countsOf(A);
      const east = counts.find((c) => c.region === "us-east-1");
      const west = counts.find((c) => c.region === "us-west-2");
      assert.deepEqual(west, {
        region: "us-west-2",
        service: "ec2",
        resourceType: "instance",
        resources: 1,
        noncompliant: 1,
      });
      assert.equal(east?.noncompliant, 6);
      const byKey = await countsOf(A, { tagKeys: ["team"], regions: ["us-east-1"] });
      assert.deepEqual(
        byKey.map((c) => [c.resources, c.noncompliant]),
        [[5, 5]],
      );
      // Walked Region by Region in pages of 3: every tagged resource once.
      const scanned = [];
      let cursor: ScanCursor | undefined;
      do {
        const page = await store.scanCompliance(A, cursor, 3);
        assert.ok(page.rows.length <= 3);
        scanned.push(...page.rows);
        cursor = page.next;
      } while (cursor);
      assert.equal(scanned.length, east && west ? east.resources + west.resources : -1);
      assert.equal(new Set(scanned.map((r) => r.rid)).size, scanned.length);
      assert.deepEqual([...new Set(scanned.map((r) => r.region))], ["us-east-1", "us-west-2"]);
      assert.equal(scanned.filter((r) => r.noncompliance).length, 7);
    });

    test("deleting the policy and re-evaluating clears every record", async () => {
      const revision = await store.deleteTagPolicy("cost");
      assert.equal(revision, 2);
      assert.equal(await store.deleteTagPolicy("cost"), null);
      await reevaluateAccounts(store, [A]);
      assert.deepEqual(await noncompliant(), {});
      assert.equal(
        (await countsOf(A)).reduce((n, c) => n + c.noncompliant, 0),
        0,
      );
    });
  });
}
