import type { IntegerShape, ListShape, StringShape, StructureShape } from "../../validation.ts";

/** Shapes from the KMS API reference (KeyIdType, TagKeyType, TagValueType, LimitType, MarkerType). */
export const KEY_ID = { type: "string", min: 1, max: 2048, required: true } as const satisfies StringShape;
export const TAG_KEY = { type: "string", min: 1, max: 128 } as const satisfies StringShape;
export const TAG_VALUE = { type: "string", min: 0, max: 256 } as const satisfies StringShape;
export const TAG = {
  type: "structure",
  members: {
    TagKey: { ...TAG_KEY, required: true },
    TagValue: { ...TAG_VALUE, required: true },
  },
} as const satisfies StructureShape;
export const TAG_LIST = { type: "list", member: TAG, required: true } as const satisfies ListShape;
export const TAG_KEY_LIST = { type: "list", member: TAG_KEY, required: true } as const satisfies ListShape;
/** ListResourceTags: "If you include a value, it must be between 1 and 50, inclusive." */
export const LIMIT = { type: "integer", min: 1, max: 50 } as const satisfies IntegerShape;
export const MARKER = {
  type: "string",
  min: 1,
  max: 1024,
  pattern: "[\\u0020-\\u00FF]*",
} as const satisfies StringShape;
