import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { cloudOfAccount, resolveImport } from "./domain/inventory.ts";
import { DomainError } from "./errors.ts";

const accessKey = z.strictObject({
  accessKeyId: z.string().min(1).max(128),
  secret: z.string().min(1),
});

const account = z
  .strictObject({
    id: z.string(),
    cloud: z.enum(["aws", "alibaba"]),
    name: z.string().optional(),
    management: z.boolean().optional(),
    accessKeys: z.array(accessKey).default([]),
    /** Alibaba: the id of the account's default resource group, which ListTagResources cannot query. */
    defaultResourceGroupId: z
      .string()
      .regex(/^rg-[0-9a-z]{1,64}$/, "a resource group id looks like rg-acfmxazb4ph6aiy")
      .optional(),
  })
  .superRefine((a, ctx) => {
    if (cloudOfAccount(a.id) !== a.cloud) {
      ctx.addIssue({
        code: "custom",
        path: ["id"],
        message:
          a.cloud === "aws"
            ? "an AWS account id is 12 digits"
            : "an Alibaba Cloud account id (UID) is 16 digits",
      });
    }
  });

/**
 * Why a resource's tags are not a plain object of string values (JSON's or YAML's objects; not a Map,
 * a Set, a date or a class instance), or undefined when they are. Only own keys count, `__proto__`
 * included: JSON.parse and the YAML parser make it an own key like any other.
 */
function tagMapProblem(value: unknown): string | undefined {
  const proto = typeof value === "object" && value !== null ? Object.getPrototypeOf(value) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    const kind = Array.isArray(value)
      ? "an array"
      : value === null
        ? "null"
        : typeof value === "object"
          ? `a ${(value as object).constructor?.name ?? "non-plain object"}`
          : `a ${typeof value}`;
    return `expected an object of tag keys to values, received ${kind}`;
  }
  for (const key of Object.keys(value as object)) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v !== "string")
      return `${JSON.stringify(key)}: expected a string value, received ${v === null ? "null" : typeof v}`;
  }
  return undefined;
}

/**
 * A resource's tags, checked in one loop. (zod's record schema ran each key and value through schemas
 * of their own: ~2 µs a resource, most of a bulk call's validation.)
 */
const tagMap = z.custom<Record<string, string>>((value) => tagMapProblem(value) === undefined, {
  error: (issue) => tagMapProblem(issue.input) ?? "invalid tags",
});

export const resourceInputSchema = z.strictObject({
  arn: z.string().min(1).optional(),
  cloud: z.enum(["aws", "alibaba"]).optional(),
  accountId: z.string().optional(),
  region: z.string().min(1).optional(),
  partition: z.string().optional(),
  service: z.string().min(1).optional(),
  resourceType: z.string().optional(),
  resourceId: z.string().min(1).optional(),
  resourceGroupId: z.string().min(1).optional(),
  state: z.string().min(1).optional(),
  tags: tagMap.optional(),
});

const organization = z.strictObject({
  id: z.string().regex(/^o-[a-z0-9]{10,32}$/, "an organization id looks like o-exampleorgid"),
  root: z.string().regex(/^r-[0-9a-z]{4,32}$/, "a root id looks like r-ab12"),
  units: z
    .array(
      z.strictObject({
        id: z.string().regex(/^ou-[0-9a-z-]{1,64}$/, "an organizational unit id starts with ou-"),
        name: z.string().optional(),
        parent: z.string(),
        accounts: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  accounts: z.array(z.string()).default([]),
});

/** Where compliance reports go: by default folders under the data directory; optionally S3. */
const reports = z.strictObject({
  s3: z
    .strictObject({
      endpoint: z.url({ protocol: /^https?$/, error: "an http:// or https:// URL" }),
      region: z.string().min(1).default("us-east-1"),
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      forcePathStyle: z.boolean().default(true),
    })
    .optional(),
});

export const configSchema = z
  .strictObject({
    inventory: z.enum(["open", "strict"]).default("open"),
    adminToken: z.string().min(8, "the admin token must be at least 8 characters").optional(),
    accounts: z.array(account).default([]),
    organization: organization.optional(),
    reports: reports.optional(),
    resources: z.array(resourceInputSchema).default([]),
    paginationSecret: z.string().min(16, "the pagination secret must be at least 16 characters").optional(),
  })
  .superRefine((c, ctx) => {
    const seenAccounts = new Set<string>();
    const seenKeys = new Map<string, string>();
    c.accounts.forEach((a, i) => {
      if (seenAccounts.has(a.id)) {
        ctx.addIssue({
          code: "custom",
          path: ["accounts", i, "id"],
          message: `account ${a.id} is listed twice`,
        });
      }
      seenAccounts.add(a.id);
      a.accessKeys.forEach((k, j) => {
        const id = `${a.cloud}:${k.accessKeyId}`;
        if (seenKeys.has(id)) {
          ctx.addIssue({
            code: "custom",
            path: ["accounts", i, "accessKeys", j, "accessKeyId"],
            message: `access key ${k.accessKeyId} is already given to account ${seenKeys.get(id)}`,
          });
        }
        seenKeys.set(id, a.id);
      });
    });
    // Seed resources pass the checks the admin API makes, so a bad one stops the server at start with
    // its index instead of failing inside the store.
    const clouds = new Map(c.accounts.map((a) => [a.id, a.cloud]));
    c.resources.forEach((r, i) => {
      const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["resources", i], message });
      try {
        const record = resolveImport(r).resource;
        const cloud = clouds.get(record.accountId);
        if (cloud === undefined) issue(`account ${record.accountId} is not one of the configured accounts`);
        else if (cloud !== record.cloud) issue(`account ${record.accountId} is an ${cloud} account`);
      } catch (err) {
        if (!(err instanceof DomainError)) throw err;
        issue(err.message);
      }
    });
    if (c.organization) {
      const nodes = new Set([c.organization.root, ...c.organization.units.map((u) => u.id)]);
      c.organization.units.forEach((u, i) => {
        if (!nodes.has(u.parent)) {
          ctx.addIssue({
            code: "custom",
            path: ["organization", "units", i, "parent"],
            message: `parent ${u.parent} is neither the root nor a unit`,
          });
        }
      });
    }
  });

export type TagdConfig = z.infer<typeof configSchema>;

/** With no configuration file: one AWS and one Alibaba account, each with access key test / test. */
export const DEVELOPMENT_CONFIG: TagdConfig = configSchema.parse({
  inventory: "open",
  adminToken: "test-admin-token",
  accounts: [
    {
      id: "000000000000",
      cloud: "aws",
      management: true,
      accessKeys: [{ accessKeyId: "test", secret: "test" }],
    },
    { id: "1000000000000000", cloud: "alibaba", accessKeys: [{ accessKeyId: "test", secret: "test" }] },
  ],
});

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Validates a configuration object; the message names every bad field by its path. */
export function parseConfig(raw: unknown, source = "configuration"): TagdConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const path = issue.path.length
      ? issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")
      : "";
    const field = path.startsWith(".") ? path.slice(1) : path || "(root)";
    return `  ${field}: ${issue.message}`;
  });
  throw new ConfigError(`invalid ${source}:\n${lines.join("\n")}`);
}

/** Reads a JSON or YAML configuration file (by extension; YAML also parses JSON). */
export function loadConfigFile(file: string): TagdConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `configuration file ${file} is not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(err as Error).message}`,
    );
  }
  return parseConfig(raw, `configuration file ${file}`);
}
