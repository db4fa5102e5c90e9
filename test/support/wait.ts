/**
 * Polls `condition` every 50 ms until it holds or `timeoutMs` has passed, and returns its last value. The deadline
 * is generous: a slow machine only makes the wait longer, and a condition that never holds still fails the test.
 */
export async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return condition();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
