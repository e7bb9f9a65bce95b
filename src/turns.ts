/**
 * Resolves in a later turn of the event loop, once the I/O that arrived meanwhile has been polled.
 * Long synchronous work (a bulk import on SQLite, whose statements are calls in process) awaits this
 * between its pieces, so that requests arriving meanwhile are answered between them instead of after
 * the whole call.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
