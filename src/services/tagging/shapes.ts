import type { ListShape, StringShape } from "../../validation.ts";

/** Shapes the seed gives several actions. */
export const ARN = { type: "string", min: 1, max: 1011 } as const satisfies StringShape;
export const TAG_KEY = { type: "string", min: 1, max: 128 } as const satisfies StringShape;
export const TAG_VALUE = { type: "string", min: 0, max: 256 } as const satisfies StringShape;
export const PAGINATION_TOKEN = { type: "string", min: 0, max: 2048 } as const satisfies StringShape;
export const ARN_LIST_20 = {
  type: "list",
  member: ARN,
  min: 1,
  max: 20,
  required: true,
} as const satisfies ListShape;
