/**
 * One error type for everything a client can cause. The code is the wire code of the dialect
 * that raised it; each dialect's catalogue (services/<service>/errors.ts) maps it to a status.
 * Domain code throws `DomainError` with a dialect-free kind instead; the action handlers translate it.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ServiceError";
  }
}

export type DomainErrorKind =
  | "InvalidParameter"
  | "PaginationTokenExpired"
  | "PaginationTokenInvalid"
  | "ResourceNotFound"
  | "TagLimitExceeded"
  | "StoreUnavailable";

/** Raised by the dialect-free domain layer; every service maps each kind to its own code. */
export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}
