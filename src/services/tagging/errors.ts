import { type DomainError, ServiceError } from "../../errors.ts";

/** The Resource Groups Tagging API's error catalogue (seed 004): code → HTTP status. */
export const TAGGING_ERRORS: Readonly<Record<string, number>> = {
  ConcurrentModificationException: 400,
  ConstraintViolationException: 400,
  InternalServiceException: 500,
  InvalidParameterException: 400,
  PaginationTokenExpiredException: 400,
  ThrottledException: 400,
  ServiceUnavailable: 503,
};

export function invalidParameter(message: string): ServiceError {
  return new ServiceError("InvalidParameterException", message);
}

export function constraintViolation(message: string): ServiceError {
  return new ServiceError("ConstraintViolationException", message);
}

export function concurrentModification(message: string): ServiceError {
  return new ServiceError("ConcurrentModificationException", message);
}

/** The tagging API's code for each dialect-free domain failure. */
export function taggingDomainError(err: DomainError): ServiceError {
  switch (err.kind) {
    case "PaginationTokenExpired":
      return new ServiceError("PaginationTokenExpiredException", err.message);
    case "StoreUnavailable":
      return new ServiceError("ServiceUnavailable", err.message);
    default:
      return invalidParameter(err.message);
  }
}
