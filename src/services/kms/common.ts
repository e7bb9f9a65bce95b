import type { Deps } from "../../deps.ts";
import { parseArn } from "../../domain/arn.ts";
import { describeKeyState, isKmsKeyId, keyStateOf } from "../../domain/kms-keys.ts";
import type { HeldResource, ResourceRecord, Tag } from "../../domain/resource.ts";
import { AWS_TAG_RULES, reservedPrefixOf } from "../../domain/tags.ts";
import type { AwsJsonContext } from "../../protocols/aws-json.ts";
import type { TagRefusal } from "../../store/store.ts";
import { invalidArn, invalidState, limitExceeded, notFound, tagError } from "./errors.ts";

export type KmsContext = AwsJsonContext<Deps>;

/** TagResource and UntagResource answer "an HTTP 200 response with an empty HTTP body" (the seed). */
export const EMPTY_BODY = "";

/**
 * Key states in which KMS refuses to change a key's tags: "you can … tag or untag existing KMS keys
 * unless they are pending deletion" (KMS Developer Guide, tags); a multi-Region replica pending
 * deletion is refused the same way. ListResourceTags names no KMSInvalidStateException: it answers in
 * every state.
 */
const TAG_CHANGE_REFUSED_STATES: ReadonlySet<string> = new Set(["PendingDeletion", "PendingReplicaDeletion"]);

/**
 * The characters AWS allows in tag keys and values ("letters, numbers, and spaces representable in
 * UTF-8, and the following characters: + - = . _ : / @"); anything else is a TagException.
 */
const TAG_TEXT_RE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * The key a KeyId names, as the inventory would register it. TagResource, UntagResource and
 * ListResourceTags take a key id or a key ARN; aliases are not accepted. A key ARN of another account
 * or Region is "not found" with exactly the message a missing key gets, so nothing about another
 * account's keys shows.
 */
export function resolveKey(ctx: KmsContext, keyId: string): ResourceRecord {
  if (keyId.startsWith("arn:")) return resolveKeyArn(ctx, keyId);
  if (!isKmsKeyId(keyId)) {
    throw notFound(
      keyId.startsWith("alias/")
        ? `Invalid keyId ${keyId}: this operation takes a key id or a key ARN, not an alias`
        : `Invalid keyId ${keyId}`,
    );
  }
  const arn = `arn:${ctx.partition}:kms:${ctx.region}:${ctx.accountId}:key/${keyId}`;
  return keyRecord(ctx, arn, keyId);
}

function resolveKeyArn(ctx: KmsContext, keyId: string): ResourceRecord {
  const parsed = parseArn(keyId);
  if (!parsed.ok) throw invalidArn(`${keyId} is not a valid ARN: it ${parsed.reason}`);
  const arn = parsed.value;
  const shape = "a key ARN is arn:<partition>:kms:<region>:<account-id>:key/<key-id>";
  if (arn.service !== "kms") throw invalidArn(`${keyId} is not a KMS key ARN: ${shape}`);
  if (arn.resourceType === "alias") {
    throw notFound(`Invalid keyId ${keyId}: this operation takes a key id or a key ARN, not an alias`);
  }
  if (arn.resourceType !== "key" || arn.region === "" || arn.accountId === "") {
    throw invalidArn(`${keyId} is not a KMS key ARN: ${shape}`);
  }
  if (!isKmsKeyId(arn.resourceId)) {
    throw invalidArn(
      `${keyId} is not a valid key ARN: a key id is a UUID (1234abcd-12ab-34cd-56ef-1234567890ab) or a multi-Region key id (mrk-…)`,
    );
  }
  if (arn.accountId !== ctx.accountId || arn.region !== ctx.region) throw keyNotFound(keyId);
  return keyRecord(ctx, keyId, arn.resourceId);
}

function keyRecord(ctx: KmsContext, arn: string, keyId: string): ResourceRecord {
  return {
    cloud: "aws",
    accountId: ctx.accountId,
    region: ctx.region,
    partition: ctx.partition,
    service: "kms",
    resourceType: "key",
    resourceId: keyId,
    name: arn,
    resourceGroupId: null,
    state: null,
  };
}

/** KMS's answer for a key it does not have: `Key '<key ARN>' does not exist`. */
export function keyNotFound(arn: string) {
  return notFound(`Key '${arn}' does not exist`);
}

/** The key as the inventory has it, or undefined. */
export async function findKey(ctx: KmsContext, key: ResourceRecord): Promise<HeldResource | undefined> {
  return (await ctx.deps.store.getResources(ctx.accountId, [key.name])).get(key.name);
}

/** Refuses a tag change on a key whose state does not allow one, naming the state as KMS does. */
export function requireTaggableState(key: ResourceRecord): void {
  const refusal = stateRefusal(key);
  if (refusal) throw invalidState(refusal.message);
}

/**
 * The same rule as a store check: it runs again on the key as the write transaction locks it, so a
 * state the admin API sets at the same moment cannot be slipped past.
 */
export function stateRefusal(key: ResourceRecord): TagRefusal | null {
  const state = keyStateOf(key);
  return TAG_CHANGE_REFUSED_STATES.has(state)
    ? { kind: "InvalidState", message: `${key.name} is ${describeKeyState(state)}.` }
    : null;
}

/** A refused store change as KMS's error; ResourceNotFound is the caller's to map. */
/**
 * A refusal from the store: a key state (KMSInvalidStateException), a tag policy enforced on KMS keys
 * (TagException: "one or more tags are not valid"), or the tag limit (LimitExceededException).
 */
export function refusalError(result: { kind: string; message: string }) {
  if (result.kind === "InvalidState") return invalidState(result.message);
  if (result.kind === "PolicyViolation") return tagError(result.message);
  return limitExceeded(result.message);
}

/** Rejects a tag key callers may not set or remove: `aws:` is reserved for AWS. */
export function requireUserKey(key: string): void {
  const reserved = reservedPrefixOf(key, AWS_TAG_RULES);
  if (reserved) {
    throw tagError(
      `Tag keys beginning with '${reserved}' are reserved for AWS use and cannot be changed: ${key}`,
    );
  }
}

/** The checks KMS makes on the tags of a TagResource call beyond their lengths. */
export function requireValidTags(tags: Tag[]): void {
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    requireUserKey(key);
    if (seen.has(key)) throw tagError(`Duplicate tag key ${key}: a request can set each tag key once`);
    seen.add(key);
    if (!TAG_TEXT_RE.test(key)) {
      throw tagError(
        `Tag key ${key} contains characters that are not allowed: use letters, numbers, spaces and _ . : / = + - @`,
      );
    }
    if (!TAG_TEXT_RE.test(value)) {
      throw tagError(
        `The value of tag key ${key} contains characters that are not allowed: use letters, numbers, spaces and _ . : / = + - @`,
      );
    }
  }
}
