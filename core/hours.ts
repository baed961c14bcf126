// Hour arithmetic on epoch milliseconds. Every hour in the service is a UTC hour [h, h + 1 h).
export const HOUR_MS = 3_600_000;

/** The start of the UTC hour holding `timestampMs`. */
export function hourOf(timestampMs: number): number {
  return Math.floor(timestampMs / HOUR_MS) * HOUR_MS;
}
