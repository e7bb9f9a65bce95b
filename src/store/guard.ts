import { StoreUnavailableError } from "./errors.ts";
import type { TagStore } from "./store.ts";

/**
 * PostgreSQL error classes and Node socket errors that mean "the database is not there right now",
 * as opposed to a bug: class 08 (connection exception), 57P01–57P03 (shutdown, cannot connect now),
 * 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATES = /^(08|57P0[123]|53300)/;
const UNAVAILABLE_NODE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down)/i;

export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NODE_CODES.has(code)))
    return true;
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return UNAVAILABLE_MESSAGES.test(err.message);
}

/** Wraps every store call so an unreachable database surfaces as `StoreUnavailableError`. */
export function guardStore<S extends TagStore>(store: S): S {
  return guard(store, new Set(["jobs"]));
}

function guard<T extends object>(target: T, nested: Set<string | symbol> = new Set()): T {
  // One wrapper per method, made once: store calls are on every request's path.
  const wrapped = new Map<string | symbol, unknown>();
  return new Proxy(target, {
    get(target, prop, receiver) {
      const made = wrapped.get(prop);
      if (made !== undefined) return made;
      const value = Reflect.get(target, prop, receiver);
      let out: unknown = value;
      if (nested.has(prop) && typeof value === "object" && value !== null) out = guard(value);
      else if (typeof value === "function") {
        out = async (...args: unknown[]) => {
          try {
            return await value.apply(target, args);
          } catch (err) {
            if (isUnavailable(err)) throw new StoreUnavailableError((err as Error).message, { cause: err });
            throw err;
          }
        };
      } else return value;
      wrapped.set(prop, out);
      return out;
    },
  });
}
