import { type DomainError, ServiceError } from "../../errors.ts";

/**
 * AWS KMS's error catalogue for the tagging actions: code → HTTP status. The seed
 * (003_d493eed1df79d422.txt) gives 400 for every TagResource error. KMSInternalException is the
 * exception: the seed's older page says 400, the current API reference and the service model say 500
 * (a server fault the SDKs retry), and tagd answers an internal failure with 500 in every dialect.
 * DependencyTimeoutException (503 in the model) is what tagd answers while its store is unreachable.
 */
export const KMS_ERRORS: Readonly<Record<string, number>> = {
  DependencyTimeoutException: 503,
  InvalidArnException: 400,
  InvalidMarkerException: 400,
  KMSInternalException: 500,
  KMSInvalidStateException: 400,
  LimitExceededException: 400,
  NotFoundException: 400,
  TagException: 400,
  ValidationException: 400,
};

export function notFound(message: string): ServiceError {
  return new ServiceError("NotFoundException", message);
}

export function invalidArn(message: string): ServiceError {
  return new ServiceError("InvalidArnException", message);
}

export function tagError(message: string): ServiceError {
  return new ServiceError("TagException", message);
}

export function invalidState(message: string): ServiceError {
  return new ServiceError("KMSInvalidStateException", message);
}

export function invalidMarker(): ServiceError {
  return new ServiceError(
    "InvalidMarkerException",
    "The Marker is not valid: pass the NextMarker of the previous ListResourceTags response for the same key",
  );
}

/** KMS's code for each dialect-free domain failure. */
export function kmsDomainError(err: DomainError): ServiceError {
  switch (err.kind) {
    case "PaginationTokenInvalid":
    case "PaginationTokenExpired":
      return invalidMarker();
    case "ResourceNotFound":
      return notFound(err.message);
    case "TagLimitExceeded":
      return new ServiceError("LimitExceededException", err.message);
    case "StoreUnavailable":
      return new ServiceError("DependencyTimeoutException", err.message);
    default:
      return new ServiceError("ValidationException", err.message);
  }
}

export function limitExceeded(message: string): ServiceError {
  return new ServiceError("LimitExceededException", message);
}
