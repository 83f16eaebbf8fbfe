// Polls a condition with a deadline (tests never sleep in place of a condition).
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Polls until `fn` gives a value (not undefined, null or false) and returns it. */
export async function waitForValue<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs: number, what = 'a value'): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => {
    const v = await fn();
    if (v === undefined || v === null || v === false) return false;
    value = v;
    return true;
  }, timeoutMs, what);
  return value as T;
}
