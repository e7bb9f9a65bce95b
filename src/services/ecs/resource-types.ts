/**
 * ECS resource types that carry tags, as data: the `ResourceType` value (all lower case, as the seeds
 * say), the form of its ids, and which actions take it. AddTags / RemoveTags (seed 000) take twelve
 * types; TagResources, UntagResources and ListTagResources (seed 001) take all nineteen.
 *
 * `notTaggable` recognises well-formed ids of resources of the type that a user cannot tag: public
 * images (`ubuntu_22_04_x64_20G_alibase_20240101.vhd`), which belong to Alibaba Cloud rather than to
 * the account — the API's `InvalidResourceId.NotSupported`.
 */
export interface EcsResourceType {
  /** The ids this type's resources have. */
  id: RegExp;
  notTaggable?: RegExp;
  /** Whether the deprecated AddTags / RemoveTags take it. */
  legacy: boolean;
}

const prefixed = (prefix: string) => new RegExp(`^${prefix}-[0-9a-z]{1,64}$`);

export const ECS_RESOURCE_TYPES: Readonly<Record<string, EcsResourceType>> = {
  instance: { id: prefixed("i"), legacy: true },
  disk: { id: prefixed("d"), legacy: true },
  snapshot: { id: prefixed("s"), legacy: true },
  image: {
    id: prefixed("m"),
    notTaggable: /^(?!m-)[A-Za-z0-9][A-Za-z0-9_.-]{1,127}$/,
    legacy: true,
  },
  securitygroup: { id: prefixed("sg"), legacy: true },
  volume: { id: prefixed("v"), legacy: true },
  eni: { id: prefixed("eni"), legacy: true },
  ddh: { id: prefixed("dh"), legacy: true },
  ddhcluster: { id: prefixed("dc"), legacy: false },
  // A key pair is named, not numbered: 2–128 characters, starting with a letter (or a Chinese
  // character), then letters, digits, `.`, `_`, `-` and `:` (CreateKeyPair's KeyPairName).
  keypair: { id: /^[A-Za-z\u4e00-\u9fa5][\w.:\u4e00-\u9fa5-]{1,127}$/, legacy: true },
  launchtemplate: { id: prefixed("lt"), legacy: true },
  reservedinstance: { id: prefixed("ecsri"), legacy: true },
  snapshotpolicy: { id: prefixed("sp"), legacy: true },
  elasticityassurance: { id: prefixed("eap"), legacy: false },
  capacityreservation: { id: prefixed("crp"), legacy: false },
  command: { id: prefixed("c"), legacy: false },
  invocation: { id: prefixed("t"), legacy: false },
  // Cloud Assistant activation codes are identified by an upper-case UUID.
  activation: { id: /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/, legacy: false },
  managedinstance: { id: prefixed("mi"), legacy: false },
};

export function ecsResourceType(type: string, legacyOnly: boolean): EcsResourceType | undefined {
  const t = Object.hasOwn(ECS_RESOURCE_TYPES, type) ? ECS_RESOURCE_TYPES[type] : undefined;
  return t && (!legacyOnly || t.legacy) ? t : undefined;
}
