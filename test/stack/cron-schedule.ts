/**
 * Cron expressions as Cloudflare Workers reads them (UTC; minute hour day-of-month month day-of-week),
 * for driving the edge's `scheduled` handler where the runtime has no scheduler (`workerd serve`).
 * A sixth, leading seconds field is accepted too, so tests can ask for a run every few seconds.
 */

interface FieldSpec {
  min: number;
  max: number;
}

const minuteFields: FieldSpec[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12 },
  { min: 0, max: 7 },
];
const secondField: FieldSpec = { min: 0, max: 59 };

/** A parsed expression: the allowed values of each field. */
export interface CronSchedule {
  expression: string;
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
  /** Day-of-month and day-of-week both restricted: either may match (standard cron). */
  dayEither: boolean;
}

function parseItem(item: string, spec: FieldSpec, into: Set<number>): void {
  const [range = "", stepText] = item.split("/");
  const step = stepText === undefined ? 1 : Number(stepText);
  let [low, high] = [spec.min, spec.max];
  if (range !== "*") {
    const [a, b] = range.split("-");
    low = Number(a);
    high = b === undefined ? (stepText === undefined ? low : spec.max) : Number(b);
  }
  const valid = [low, high, step].every(Number.isInteger) && step > 0;
  if (!valid || low < spec.min || high > spec.max || low > high) {
    throw new Error(`cron field item '${item}' is out of range ${spec.min}-${spec.max}`);
  }
  for (let value = low; value <= high; value += step) into.add(value);
}

function parseField(text: string, spec: FieldSpec): Set<number> {
  const values = new Set<number>();
  for (const item of text.split(",")) parseItem(item, spec, values);
  return values;
}

/** Parses a 5-field (or 6-field, seconds first) cron expression; throws on anything else. */
export function parseCron(expression: string): CronSchedule {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    throw new Error(`cron '${expression}' needs 5 fields (or 6 with seconds)`);
  }
  const seconds = parts.length === 6 ? parseField(parts.shift() as string, secondField) : new Set([0]);
  const [minutes, hours, days, months, weekdays] = parts.map((part, i) =>
    parseField(part, minuteFields[i] as FieldSpec),
  ) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (weekdays.has(7)) weekdays.add(0);
  const dayEither = parts[2] !== "*" && parts[4] !== "*";
  return { expression, seconds, minutes, hours, days, months, weekdays, dayEither };
}

function dayMatches(schedule: CronSchedule, at: Date): boolean {
  const day = schedule.days.has(at.getUTCDate());
  const weekday = schedule.weekdays.has(at.getUTCDay());
  return schedule.dayEither ? day || weekday : day && weekday;
}

function minuteMatches(schedule: CronSchedule, at: Date): boolean {
  return (
    schedule.minutes.has(at.getUTCMinutes()) &&
    schedule.hours.has(at.getUTCHours()) &&
    schedule.months.has(at.getUTCMonth() + 1) &&
    dayMatches(schedule, at)
  );
}

const minuteMs = 60_000;
/** Far enough for any valid expression (Feb 29 on a given weekday repeats within 28 years). */
const searchMinutes = 366 * 24 * 60 * 29;

/** The first time strictly after `after` the schedule fires (epoch ms, whole seconds). */
export function nextRun(schedule: CronSchedule, after: number): number {
  const sortedSeconds = [...schedule.seconds].sort((a, b) => a - b);
  let minuteStart = Math.floor(after / minuteMs) * minuteMs;
  for (let i = 0; i < searchMinutes; i++, minuteStart += minuteMs) {
    if (!minuteMatches(schedule, new Date(minuteStart))) continue;
    for (const second of sortedSeconds) {
      const candidate = minuteStart + second * 1_000;
      if (candidate > after) return candidate;
    }
  }
  throw new Error(`cron '${schedule.expression}' never fires`);
}
