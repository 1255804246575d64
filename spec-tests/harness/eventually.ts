/** Polling a condition that the server settles in the background, with a deadline instead of a sleep. */
import { setTimeout as delay } from 'node:timers/promises';

export async function eventually(condition: () => boolean | Promise<boolean>, what: string, deadlineMs = 5_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting until ${what}`);
    await delay(20);
  }
}
