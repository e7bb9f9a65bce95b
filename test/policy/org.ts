import assert from "node:assert/strict";
import { ACCOUNT_A, ACCOUNT_B, type TestServer, testConfig } from "../helpers.ts";

/** A third AWS account, in the child unit; no access key of its own is needed here. */
export const ACCOUNT_C = "333333333333";
export const ORG_ID = "o-exampleorgid";
export const ROOT = "r-root";
export const OU_PARENT = "ou-parent";
export const OU_CHILD = "ou-child";

/**
 * The organization the policy suites use: root → ou-parent → ou-child. The management account A sits
 * under the root, B in ou-parent, C in ou-child.
 */
export function orgConfig(overrides: Record<string, unknown> = {}) {
  const base = testConfig();
  return testConfig({
    accounts: [
      ...base.accounts,
      {
        id: ACCOUNT_C,
        cloud: "aws",
        accessKeys: [{ accessKeyId: "AKIDACCOUNTC", secret: "secret-of-account-c" }],
      },
    ],
    organization: {
      id: ORG_ID,
      root: ROOT,
      accounts: [ACCOUNT_A],
      units: [
        { id: OU_PARENT, parent: ROOT, accounts: [ACCOUNT_B] },
        { id: OU_CHILD, parent: OU_PARENT, accounts: [ACCOUNT_C] },
      ],
    },
    ...overrides,
  });
}

export const KEY_C = { accessKeyId: "AKIDACCOUNTC", secretAccessKey: "secret-of-account-c" };

/** Stores a policy through the admin API and asserts it was accepted. */
export async function putPolicy(server: TestServer, name: string, content: unknown, targets: string[]) {
  const res = await server.admin("PUT", `/admin/v1/tag-policies/${name}`, { content, targets });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

export async function deletePolicy(server: TestServer, name: string) {
  const res = await server.admin("DELETE", `/admin/v1/tag-policies/${name}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** The effective policy document of an account, through the admin API. */
export async function effective(server: TestServer, account: string) {
  const res = await server.admin("GET", `/admin/v1/effective-tag-policies/${account}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.effectivePolicy;
}

/** A policy with one key: `tag_key`, `tag_value` and `enforced_for` as given (operators included). */
export function policy(key: string, settings: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { tags: { [key]: settings, ...extra } };
}
