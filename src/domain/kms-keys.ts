/**
 * AWS KMS keys as inventory resources: `arn:<partition>:kms:<region>:<account>:key/<key-id>`,
 * service `kms`, resource type `key`, with a key state.
 */

/** The values of KeyMetadata.KeyState in the KMS API reference. */
export const KMS_KEY_STATES = [
  "Creating",
  "Enabled",
  "Disabled",
  "PendingDeletion",
  "PendingImport",
  "PendingReplicaDeletion",
  "Unavailable",
  "Updating",
] as const;

export type KmsKeyState = (typeof KMS_KEY_STATES)[number];

/** A key registered without a state is a key as CreateKey leaves it: "Most KMS keys are created in the Enabled state." */
export const DEFAULT_KMS_KEY_STATE: KmsKeyState = "Enabled";

/**
 * Key ids as KMS issues them: a lower-case UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a
 * multi-Region key id, `mrk-` and 32 hex digits.
 */
const KEY_ID_RE = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$/;

export function isKmsKeyId(id: string): boolean {
  return KEY_ID_RE.test(id);
}

export function isKmsKeyState(state: string): state is KmsKeyState {
  return (KMS_KEY_STATES as readonly string[]).includes(state);
}

export function isKmsKey(resource: { service: string; resourceType: string }): boolean {
  return resource.service === "kms" && resource.resourceType === "key";
}

/** A key's state as KMS would report it: a key registered without one is Enabled. */
export function keyStateOf(resource: { state: string | null }): string {
  return resource.state ?? DEFAULT_KMS_KEY_STATE;
}

/** How KMS names a key state in a KMSInvalidStateException message ("<key ARN> is pending deletion."). */
export function describeKeyState(state: string): string {
  return state.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}
