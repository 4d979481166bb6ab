/**
 * Sends `total` requests through `send` with at most `concurrency` in flight and returns every status, in order of
 * sending: a flood from one sender at one host, as a retrying provider or an attacker would make it.
 */
export async function flood(send: () => Promise<number>, total: number, concurrency: number): Promise<number[]> {
  const statuses: number[] = new Array<number>(total);
  let next = 0;
  const lane = async () => {
    while (next < total) {
      const index = next++;
      statuses[index] = await send();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, lane));
  return statuses;
}

/** Counts of each status, e.g. `{ 200: 500, 429: 200 }`. */
export const tally = (statuses: number[]): Record<number, number> =>
  statuses.reduce<Record<number, number>>((counts, status) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});
