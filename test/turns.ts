/**
 * Runs `work` and counts the turns of the event loop taken while it runs (one setImmediate chain):
 * 0 for work that never gives the loop a turn before it settles.
 */
export async function countTurns<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let running = true;
  const count = () => {
    if (!running) return;
    turns++;
    setImmediate(count);
  };
  setImmediate(count);
  try {
    return { value: await work(), turns };
  } finally {
    running = false;
  }
}
