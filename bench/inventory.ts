/**
 * The benchmark's inventory: N AWS resources in us-east-1 of one account, each with 5–15 tags whose
 * keys and values follow Zipf-like popularity. Everything is a pure function of the resource's index
 * and a fixed seed, so nothing of size N is kept in memory and every run sees the same data.
 */
export const ACCOUNT_ID = "123456789012";
export const REGION = "us-east-1";
/** A second member of the benchmark's organization, holding its tag policy (see tagd.ts). */
export const POLICY_ACCOUNT_ID = "210987654321";

const SEED = 0x7a6d1e5;

/** A bijection on 32-bit integers with good avalanche (Wellons' lowbias32): distinct in, distinct out. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex8 = (x: number) => x.toString(16).padStart(8, "0");
/** 17 hex digits, unique per index: the first eight are a bijection of it. */
const hex17 = (i: number) => `0${hex8(mix32(i ^ SEED))}${hex8(mix32(i + 0x9e3779b9))}`;

interface ResourceType {
  name: string;
  weight: number;
  arn(i: number): string;
  /** ARNs without a region or account need them beside the ARN in the admin import. */
  regionless?: boolean;
}

const PREFIX = (service: string) => `arn:aws:${service}:${REGION}:${ACCOUNT_ID}:`;

export const RESOURCE_TYPES: ResourceType[] = [
  { name: "ec2:instance", weight: 50, arn: (i) => `${PREFIX("ec2")}instance/i-${hex17(i)}` },
  { name: "ec2:volume", weight: 15, arn: (i) => `${PREFIX("ec2")}volume/vol-${hex17(i)}` },
  { name: "s3:bucket", weight: 5, arn: (i) => `arn:aws:s3:::bench-bucket-${i}`, regionless: true },
  { name: "lambda:function", weight: 10, arn: (i) => `${PREFIX("lambda")}function:fn-${i}` },
  { name: "rds:db", weight: 10, arn: (i) => `${PREFIX("rds")}db:db-${i}` },
  { name: "dynamodb:table", weight: 10, arn: (i) => `${PREFIX("dynamodb")}table/t-${i}` },
];
const TYPE_TOTAL = RESOURCE_TYPES.reduce((s, t) => s + t.weight, 0);

/**
 * Tag keys, most popular first; a key's weight is 1/rank (Zipf, s = 1). `values` is the key's
 * cardinality; a key without it carries near-unique values.
 */
interface KeySpec {
  key: string;
  values?: number;
  /** Names for the popular head of the values, most popular first. */
  named?: string[];
  /** Spells value number `rank` (0-based) of the key. */
  spell?: (rank: number) => string;
  /** For near-unique keys: a value from the resource's index and its PRNG. */
  unique?: (i: number, rnd: () => number) => string;
}

const hexOf = (rnd: () => number, digits: number) => {
  let s = "";
  while (s.length < digits) s += hex8(Math.floor(rnd() * 4294967296));
  return s.slice(0, digits);
};

const KEYS: KeySpec[] = [
  { key: "env", values: 4, named: ["prod", "dev", "staging", "test"] },
  { key: "team", values: 50, spell: (r) => `team-${r + 1}` },
  { key: "owner", values: 2000, spell: (r) => `user${r + 1}@example.com` },
  { key: "app", values: 500, spell: (r) => `app-${r + 1}` },
  { key: "cost-center", values: 300, spell: (r) => `cc-${1000 + r}` },
  { key: "project", values: 200, spell: (r) => `project-${r + 1}` },
  { key: "service", values: 150, spell: (r) => `svc-${r + 1}` },
  { key: "stage", values: 6, named: ["prod", "beta", "gamma", "alpha", "dev", "canary"] },
  { key: "Name", unique: (i) => `resource-${i}` },
  { key: "component", values: 40, spell: (r) => `component-${r + 1}` },
  { key: "version", values: 100, spell: (r) => `v${Math.floor(r / 10) + 1}.${r % 10}.0` },
  { key: "created-by", values: 20, spell: (r) => `pipeline-${r + 1}` },
  { key: "department", values: 12, spell: (r) => `dept-${r + 1}` },
  { key: "business-unit", values: 8, spell: (r) => `bu-${r + 1}` },
  { key: "data-classification", values: 4, named: ["internal", "confidential", "public", "restricted"] },
  { key: "backup", values: 3, named: ["daily", "weekly", "none"] },
  { key: "schedule", values: 10, spell: (r) => `schedule-${r + 1}` },
  { key: "compliance", values: 5, named: ["none", "pci", "hipaa", "sox", "gdpr"] },
  { key: "tier", values: 3, named: ["web", "app", "data"] },
  { key: "os", values: 8, spell: (r) => `os-${r + 1}` },
  { key: "managed-by", values: 4, named: ["terraform", "cloudformation", "pulumi", "manual"] },
  { key: "git-sha", unique: (_i, rnd) => hexOf(rnd, 40) },
  { key: "ticket", values: 100_000, spell: (r) => `OPS-${10000 + r}` },
  { key: "region-group", values: 5, spell: (r) => `rg-${r + 1}` },
  { key: "product", values: 60, spell: (r) => `product-${r + 1}` },
  { key: "customer", values: 1000, spell: (r) => `customer-${r + 1}` },
  { key: "cluster", values: 30, spell: (r) => `cluster-${r + 1}` },
  { key: "release", values: 200, spell: (r) => `release-${r + 1}` },
  { key: "monitoring", values: 2, named: ["enabled", "disabled"] },
  { key: "patch-group", values: 12, spell: (r) => `patch-${r + 1}` },
  { key: "request-id", unique: (_i, rnd) => `req-${hexOf(rnd, 16)}` },
  ...Array.from({ length: 29 }, (_, j): KeySpec => {
    const key = `attr-${String(j + 32).padStart(2, "0")}`;
    return { key, values: 20, spell: (r) => `${key}-value-${r + 1}` };
  }),
];

const KEY_CDF: number[] = (() => {
  let sum = 0;
  const cdf = KEYS.map((_, rank) => {
    sum += 1 / (rank + 1);
    return sum;
  });
  return cdf.map((c) => c / sum);
})();

/** A Zipf-like (s = 1) rank in [0, n): the continuous inverse, P(rank < r) ≈ ln(r + 1) / ln(n + 1). */
function zipfRank(n: number, u: number): number {
  return Math.min(n - 1, Math.max(0, Math.floor((n + 1) ** u) - 1));
}

function valueName(spec: KeySpec, rank: number): string {
  return spec.named?.[rank] ?? spec.spell?.(rank) ?? `${spec.key}-${rank + 1}`;
}

function keyIndex(u: number): number {
  let lo = 0;
  let hi = KEY_CDF.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((KEY_CDF[mid] as number) > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Beyond the first five tags, each further one with this probability (a geometric tail). */
const EXTRA_TAG_P = 0.25;
export const MIN_TAGS = 5;
export const MAX_TAGS = 15;

export function typeOf(i: number): ResourceType {
  let u = (mix32((i * 2 + 1) ^ SEED) / 4294967296) * TYPE_TOTAL;
  for (const t of RESOURCE_TYPES) {
    if (u < t.weight) return t;
    u -= t.weight;
  }
  return RESOURCE_TYPES[0] as ResourceType;
}

export function arnAt(i: number): string {
  return typeOf(i).arn(i);
}

/** The tags of resource `i`: 5 plus a geometric tail, at most 15, keys without repetition. */
export function tagsAt(i: number): Record<string, string> {
  const rnd = prng(mix32(i ^ 0x51ed27a3));
  let count = MIN_TAGS;
  while (count < MAX_TAGS && rnd() < EXTRA_TAG_P) count++;
  const chosen = new Set<number>();
  while (chosen.size < count) chosen.add(keyIndex(rnd()));
  const tags: Record<string, string> = {};
  for (const k of [...chosen].sort((a, b) => a - b)) {
    const spec = KEYS[k] as KeySpec;
    tags[spec.key] = spec.unique ? spec.unique(i, rnd) : valueName(spec, zipfRank(spec.values ?? 1, rnd()));
  }
  return tags;
}

export interface ImportEntry {
  arn: string;
  region?: string;
  accountId?: string;
  tags: Record<string, string>;
}

export function importEntry(i: number): ImportEntry {
  const type = typeOf(i);
  return type.regionless
    ? { arn: type.arn(i), region: REGION, accountId: ACCOUNT_ID, tags: tagsAt(i) }
    : { arn: type.arn(i), tags: tagsAt(i) };
}

/**
 * KMS keys for the KMS operations, registered by them (not part of the seeded inventory, whose mix
 * stays as above): key `i` has a UUID-form key id derived from its index.
 */
export function kmsKeyArnAt(i: number): string {
  const h = `${hex8(mix32(i ^ 0x6b6d7301))}${hex8(mix32(i ^ 0x6b6d7302))}${hex8(mix32(i ^ 0x6b6d7303))}${hex8(i)}`;
  const id = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  return `${PREFIX("kms")}key/${id}`;
}

/** Popular (key, value) pairs from the head of the distribution, for GetResources' TagFilters. */
export const POPULAR_FILTERS: { key: string; value: string }[] = [
  { key: "env", value: "prod" },
  { key: "env", value: "dev" },
  { key: "team", value: valueName(KEYS[1] as KeySpec, 0) },
  { key: "stage", value: "prod" },
];

/** A key with many values, for GetTagValues. */
export const WIDE_KEY = "owner";
