/** The database cannot be reached right now; the dialects answer with their 5xx unavailable error. */
export class StoreUnavailableError extends Error {
  override name = "StoreUnavailableError";
}
