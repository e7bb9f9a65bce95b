/**
 * One engine for every action's parameter table. Shapes are data written from the reference
 * documents; the engine turns a decoded body into typed input or into the dialect's errors:
 * `typeError` for values of the wrong JSON type (AWS: SerializationException), `constraintError` for
 * values that break a documented constraint, all of them reported at once in the AWS style
 * ("2 validation errors detected: Value '…' at 'tagKeys' failed to satisfy constraint: …").
 */
export type Shape = StringShape | IntegerShape | BooleanShape | ListShape | MapShape | StructureShape;

export interface StringShape {
  type: "string";
  min?: number;
  max?: number;
  enum?: readonly string[];
  /** A regular expression the whole value must match, written as the API model writes it. */
  pattern?: string;
  required?: boolean;
}
export interface IntegerShape {
  type: "integer";
  min?: number;
  max?: number;
  required?: boolean;
}
export interface BooleanShape {
  type: "boolean";
  required?: boolean;
}
export interface ListShape {
  type: "list";
  member: Shape;
  min?: number;
  max?: number;
  required?: boolean;
}
export interface MapShape {
  type: "map";
  key: StringShape;
  value: Shape;
  min?: number;
  max?: number;
  required?: boolean;
}
export interface StructureShape {
  type: "structure";
  members: Readonly<Record<string, Shape>>;
  required?: boolean;
}

export interface ValidationErrors {
  typeError(message: string): Error;
  constraintError(message: string): Error;
}

/** The static type a shape decodes to. */
export type Infer<S> = S extends StringShape
  ? string
  : S extends IntegerShape
    ? number
    : S extends BooleanShape
      ? boolean
      : S extends ListShape
        ? Infer<S["member"]>[]
        : S extends MapShape
          ? Record<string, Infer<S["value"]>>
          : S extends StructureShape
            ? { [K in keyof S["members"]]?: Infer<S["members"][K]> }
            : never;

/** The models' `Integer` is a 32-bit signed int. */
const MAX_INT = 2 ** 31 - 1;
const MIN_INT = -(2 ** 31);

class TypeMismatch extends Error {}

/** Characters as the AWS models count them: Unicode code points, not UTF-16 units. */
/**
 * Text both engines keep as given: PostgreSQL refuses NUL in text (and the store's counters use it as
 * a separator), and a lone surrogate has no UTF-8 form (it would come back as U+FFFD).
 */
export function storableText(text: string): boolean {
  return !text.includes("\u0000") && text.isWellFormed();
}

export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** The value as the error message shows it; hostile values (no toString, deep nesting) included. */
function describe(value: unknown): string {
  let shown: string;
  try {
    const text = Array.isArray(value)
      ? `[${value.map((v) => describe(v)).join(", ")}]`
      : JSON.stringify(value);
    shown = typeof value === "string" ? value : (text ?? typeof value);
  } catch {
    shown = Array.isArray(value) ? `[${value.length} items]` : typeof value;
  }
  return shown.length > 200 ? `${shown.slice(0, 200)}…` : shown;
}

const compiled = new Map<string, RegExp>();

function patternOf(source: string): RegExp {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`, "u");
    compiled.set(source, re);
  }
  return re;
}

function camel(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

export function validate<S extends StructureShape>(
  shape: S,
  input: unknown,
  errors: ValidationErrors,
): Infer<S> {
  const problems: string[] = [];
  let result: unknown;
  try {
    result = walk(shape, input ?? {}, "", problems);
  } catch (err) {
    if (err instanceof TypeMismatch) throw errors.typeError(err.message);
    throw err;
  }
  if (problems.length > 0) {
    const n = problems.length;
    throw errors.constraintError(`${n} validation error${n > 1 ? "s" : ""} detected: ${problems.join("; ")}`);
  }
  return result as Infer<S>;
}

function walk(shape: Shape, value: unknown, path: string, problems: string[]): unknown {
  const where = path || "input";
  switch (shape.type) {
    case "string": {
      if (typeof value !== "string") throw new TypeMismatch(`Expected a string at '${where}'`);
      const len = codePoints(value);
      if (shape.min !== undefined && len < shape.min) {
        problems.push(
          `Value '${describe(value)}' at '${where}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
        );
      }
      if (shape.max !== undefined && len > shape.max) {
        problems.push(
          `Value '${describe(value)}' at '${where}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
        );
      }
      if (!storableText(value)) {
        problems.push(
          `Value at '${where}' failed to satisfy constraint: Member must not contain the NUL character or unpaired surrogates`,
        );
      }
      if (shape.pattern !== undefined && !patternOf(shape.pattern).test(value)) {
        problems.push(
          `Value '${describe(value)}' at '${where}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shape.pattern}`,
        );
      }
      if (shape.enum && !shape.enum.includes(value)) {
        problems.push(
          `Value '${describe(value)}' at '${where}' failed to satisfy constraint: Member must satisfy enum value set: [${shape.enum.join(", ")}]`,
        );
      }
      return value;
    }
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value) || value > MAX_INT || value < MIN_INT) {
        throw new TypeMismatch(`Expected an integer at '${where}'`);
      }
      if (shape.min !== undefined && value < shape.min) {
        problems.push(
          `Value '${value}' at '${where}' failed to satisfy constraint: Member must have value greater than or equal to ${shape.min}`,
        );
      }
      if (shape.max !== undefined && value > shape.max) {
        problems.push(
          `Value '${value}' at '${where}' failed to satisfy constraint: Member must have value less than or equal to ${shape.max}`,
        );
      }
      return value;
    }
    case "boolean": {
      if (typeof value !== "boolean") throw new TypeMismatch(`Expected a boolean at '${where}'`);
      return value;
    }
    case "list": {
      if (!Array.isArray(value)) throw new TypeMismatch(`Expected a list at '${where}'`);
      if (shape.min !== undefined && value.length < shape.min) {
        problems.push(
          `Value '${describe(value)}' at '${where}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
        );
      }
      if (shape.max !== undefined && value.length > shape.max) {
        problems.push(
          `Value '${describe(value)}' at '${where}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
        );
      }
      return value.map((item, i) => {
        if (item === null) throw new TypeMismatch(`Unexpected null at '${where}.${i + 1}'`);
        return walk(shape.member, item, `${where}.${i + 1}.member`, problems);
      });
    }
    case "map": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new TypeMismatch(`Expected a map at '${where}'`);
      }
      const entries = Object.entries(value);
      if (shape.min !== undefined && entries.length < shape.min) {
        problems.push(
          `Value at '${where}' failed to satisfy constraint: Member must have length greater than or equal to ${shape.min}`,
        );
      }
      if (shape.max !== undefined && entries.length > shape.max) {
        problems.push(
          `Value at '${where}' failed to satisfy constraint: Member must have length less than or equal to ${shape.max}`,
        );
      }
      const out: Record<string, unknown> = Object.create(null);
      for (const [k, v] of entries) {
        walk(shape.key, k, `${where}.key`, problems);
        if (v === null) throw new TypeMismatch(`Unexpected null at '${where}.${k}'`);
        out[k] = walk(shape.value, v, `${where}.${k}.value`, problems);
      }
      return out;
    }
    case "structure": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new TypeMismatch(`Expected an object at '${where}'`);
      }
      const out: Record<string, unknown> = {};
      const record = value as Record<string, unknown>;
      for (const [name, member] of Object.entries(shape.members)) {
        const memberPath = path ? `${path}.${camel(name)}` : camel(name);
        const v = Object.hasOwn(record, name) ? record[name] : undefined;
        if (v === undefined || v === null) {
          if (member.required) {
            problems.push(
              `Value null at '${memberPath}' failed to satisfy constraint: Member must not be null`,
            );
          }
          continue;
        }
        out[name] = walk(member, v, memberPath, problems);
      }
      return out;
    }
  }
}
