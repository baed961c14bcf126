// Hour arithmetic on epoch milliseconds (UTC hours: [h, h + 1h)).
export const HOUR_MS = 3_600_000;

export function hourOf(timestampMs: number): number {
  return Math.floor(timestampMs / HOUR_MS) * HOUR_MS;
}

export function isoHour(hourMs: number): string {
  return new Date(hourMs).toISOString().slice(0, 13) + ':00Z';
}
