/** Upload calendar: uploads per UTC day laid out in Monday-first weeks, ending at `asOf`. */

export type CalendarDay = { date: string; count: number; future: boolean };
export type CalendarWeek = { weekStart: string; days: CalendarDay[] };

const DAY_MS = 86_400_000;

function utcDay(date: Date): number {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

function iso(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function uploadCalendar(publishedAt: string[], asOf: string, weeks = 26): CalendarWeek[] {
  const end = utcDay(new Date(asOf));
  const weekday = (new Date(end).getUTCDay() + 6) % 7; // Monday = 0
  const lastMonday = end - weekday * DAY_MS;
  const firstMonday = lastMonday - (weeks - 1) * 7 * DAY_MS;
  const counts = new Map<string, number>();
  for (const value of publishedAt) {
    const day = utcDay(new Date(value));
    if (Number.isNaN(day) || day < firstMonday || day > end) continue;
    counts.set(iso(day), (counts.get(iso(day)) ?? 0) + 1);
  }
  const result: CalendarWeek[] = [];
  for (let w = 0; w < weeks; w++) {
    const start = firstMonday + w * 7 * DAY_MS;
    const days: CalendarDay[] = [];
    for (let d = 0; d < 7; d++) {
      const ms = start + d * DAY_MS;
      days.push({ date: iso(ms), count: counts.get(iso(ms)) ?? 0, future: ms > end });
    }
    result.push({ weekStart: iso(start), days });
  }
  return result;
}

/** 0 (none) to 4 (the busiest day) for the cell's shade. */
export function intensity(count: number, max: number): number {
  if (count <= 0 || max <= 0) return 0;
  return Math.min(4, Math.ceil((count / max) * 4));
}

/**
 * Where the heat-map ends: `asOf`, or the last upload when the channel has been silent
 * for longer than the calendar shows (an empty grid would say nothing about its rhythm).
 */
export function calendarEnd(publishedAt: string[], asOf: string, weeks: number): string {
  const times = publishedAt.map((value) => new Date(value).getTime()).filter((t) => !Number.isNaN(t));
  if (times.length === 0) return asOf;
  const last = Math.max(...times);
  const windowStart = new Date(asOf).getTime() - weeks * 7 * DAY_MS;
  return last < windowStart ? new Date(last).toISOString() : asOf;
}
