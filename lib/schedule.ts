/**
 * EventBridge Scheduler expressions, checked as the service checks them (Scheduler user guide, "Schedule types";
 * EventBridge user guide, "Cron expressions reference"):
 *
 * - `rate(value unit)`: a positive whole number and `minute(s)`, `hour(s)` or `day(s)`; singular when the value is 1,
 *   plural otherwise.
 * - `cron(minutes hours day-of-month month day-of-week year)`: six fields with the values and wildcards below;
 *   exactly one of the two day fields is `?`; `#` stands alone in the day-of-week field.
 * - `at(yyyy-mm-ddThh:mm:ss)`: a one-time schedule (UTC here), which must lie in the future.
 */

/** A valid expression: how often it runs at most (the longest gap between two runs; Infinity when it runs once). */
export interface ScheduleCheck {
  readonly kind: 'rate' | 'cron' | 'at';
  readonly longestGapMinutes: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS },
  { name: 'year', min: 1970, max: 2199 },
];

/** Checks `expression`; throws an Error whose message says what is wrong. `now` decides whether `at(...)` is past. */
export function checkSchedule(expression: string, now: Date = new Date()): ScheduleCheck {
  const [, type, body = ''] = /^(rate|cron|at)\((.*)\)$/.exec(expression) ?? [];
  if (type === 'rate') return checkRate(body);
  if (type === 'cron') return checkCron(body, now);
  if (type === 'at') return checkAt(body, now);
  throw new Error('must be an EventBridge Scheduler expression like "rate(15 minutes)" or "cron(0 3 * * ? *)"');
}

function checkRate(body: string): ScheduleCheck {
  const [, digits, unit] = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body) ?? [];
  if (digits === undefined || unit === undefined) {
    throw new Error('must be rate(<whole number> <minute(s) | hour(s) | day(s)>), e.g. "rate(15 minutes)"');
  }
  const value = Number(digits);
  if (value < 1) throw new Error('must run at a rate of at least 1 (rate(0 ...) never runs)');
  if (!Number.isSafeInteger(value)) throw new Error('has a rate value too large to be a number of minutes, hours or days');
  const singular = unit.replace(/s$/, '');
  if (value === 1 && unit !== singular) throw new Error(`must use the singular unit with 1: "rate(1 ${singular})"`);
  if (value > 1 && unit === singular) throw new Error(`must use the plural unit with ${value}: "rate(${value} ${singular}s)"`);
  const minutes = { minute: 1, hour: 60, day: 1440 }[singular as 'minute' | 'hour' | 'day'];
  return { kind: 'rate', longestGapMinutes: value * minutes };
}

function checkAt(body: string, now: Date): ScheduleCheck {
  const [, ...parts] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body) ?? [];
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = parts.map(Number);
  const time = Date.UTC(year, month - 1, day, hour, minute, second);
  const real = month >= 1 && month <= 12 && new Date(time).getUTCDate() === day && hour <= 23 && minute <= 59 && second <= 59;
  if (parts.length !== 6 || !real) {
    throw new Error('must be at(yyyy-mm-ddThh:mm:ss) with a real date and time, e.g. "at(2030-01-31T09:00:00)"');
  }
  if (time <= now.getTime())
    throw new Error(`must lie in the future (it is ${now.toISOString().slice(0, 19)} UTC now); a past at() never runs`);
  return { kind: 'at', longestGapMinutes: Number.POSITIVE_INFINITY };
}

/** One field of a cron expression, as the set of values it allows (plus the special day forms). */
interface CronField {
  readonly any: boolean;
  readonly values: ReadonlySet<number>;
  /** Day-of-month: `L` (last day), `nW` (weekday nearest n), `LW`. Day-of-week: `nL` (last n-day), `n#k` (k-th n-day). */
  readonly special: readonly string[];
}

function checkCron(body: string, now: Date): ScheduleCheck {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6) {
    throw new Error(`must be cron(minutes hours day-of-month month day-of-week year): six fields, got ${parts.length}`);
  }
  if ((parts[2] === '?') === (parts[4] === '?')) {
    throw new Error(
      'must set exactly one of day-of-month and day-of-week and put "?" in the other, e.g. "cron(17 3 * * ? *)" (every day) or "cron(0 3 ? * MON *)" (Mondays)',
    );
  }
  const fields = FIELDS.map((spec, i) => parseCronField(parts[i] ?? '', spec));
  return { kind: 'cron', longestGapMinutes: longestCronGap(fields, now) };
}

function parseCronField(text: string, spec: FieldSpec): CronField {
  const fail = (why: string): never => {
    throw new Error(`has an invalid ${spec.name} field ${JSON.stringify(text.slice(0, 40))}: ${why}`);
  };
  const isDom = spec.name === 'day-of-month';
  const isDow = spec.name === 'day-of-week';
  if (text === '?') {
    if (!isDom && !isDow) fail('"?" is allowed only in the day fields');
    return { any: true, values: new Set(), special: [] };
  }
  if (isDow && text.includes('#')) {
    const [, weekday, occurrence] = /^([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#([1-5])$/.exec(text) ?? [];
    if (weekday === undefined || occurrence === undefined)
      return fail('"#" takes one day and an occurrence 1-5, alone in the field, e.g. "3#2"');
    return { any: false, values: new Set(), special: [`${value(weekday, spec, fail)}#${occurrence}`] };
  }
  const values = new Set<number>();
  const special: string[] = [];
  for (const item of text.split(',')) {
    if (isDom && /^(L|LW|([1-9]|[12]\d|3[01])W)$/.test(item)) {
      special.push(item);
      continue;
    }
    if (isDow && item === 'L') {
      values.add(7);
      continue;
    }
    if (isDow && /^([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L$/.test(item)) {
      special.push(`${value(item.slice(0, -1), spec, fail)}L`);
      continue;
    }
    const [, range, increment] = /^(\*|[0-9A-Z]+(?:-[0-9A-Z]+)?)(?:\/(\d+))?$/.exec(item) ?? [];
    if (range === undefined) {
      return fail(
        `${spec.name} takes ${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : ''} with , - * /`,
      );
    }
    const by = increment === undefined ? 1 : Number(increment);
    if (by < 1) fail('the increment after "/" must be at least 1');
    let [from, to] = [spec.min, spec.max];
    if (range !== '*') {
      const [a = '', b] = range.split('-');
      from = value(a, spec, fail);
      to = b === undefined ? (increment === undefined ? from : spec.max) : value(b, spec, fail);
      if (to < from) fail(`the range ${range} runs backwards`);
    }
    for (let v = from; v <= to; v += by) values.add(v);
  }
  return { any: false, values, special };
}

function value(text: string, spec: FieldSpec, fail: (why: string) => never): number {
  const index = spec.names?.indexOf(text) ?? -1;
  const n = index >= 0 ? index + 1 : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= spec.min && n <= spec.max)) fail(`${JSON.stringify(text)} is outside ${spec.min}-${spec.max}`);
  return n;
}

/** The longest gap between consecutive runs over the next two years, in minutes (Infinity if it runs at most once). */
function longestCronGap(fields: readonly CronField[], now: Date): number {
  const [minutes, hours, dom, month, dow, year] = fields as [CronField, CronField, CronField, CronField, CronField, CronField];
  const times = [...hours.values].sort((a, b) => a - b).flatMap((h) => [...minutes.values].sort((a, b) => a - b).map((m) => h * 60 + m));
  if (times.length === 0) return Number.POSITIVE_INFINITY;
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const DAY = 86_400_000;
  let previous: number | undefined;
  let longest = 0;
  let runs = 0;
  for (let day = 0; day < 2 * 366; day++) {
    const date = new Date(start + day * DAY);
    if (!year.values.has(date.getUTCFullYear()) || !month.values.has(date.getUTCMonth() + 1)) continue;
    if (!(dom.any ? dayOfWeekMatches(dow, date) : dayOfMonthMatches(dom, date))) continue;
    for (const t of times) {
      const at = start + day * DAY + t * 60_000;
      if (previous !== undefined) longest = Math.max(longest, (at - previous) / 60_000);
      previous = at;
      runs++;
    }
  }
  return runs < 2 ? Number.POSITIVE_INFINITY : longest;
}

function daysInMonth(date: Date): number {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

function dayOfMonthMatches(field: CronField, date: Date): boolean {
  const day = date.getUTCDate();
  if (field.values.has(day)) return true;
  const last = daysInMonth(date);
  const weekday = date.getUTCDay();
  return field.special.some((s) => {
    if (s === 'L') return day === last;
    const target = s === 'LW' ? last : Number(s.slice(0, -1));
    if (weekday === 0 || weekday === 6) return false;
    // The weekday nearest the target day, within the month.
    for (const candidate of [target, target - 1, target + 1, target - 2, target + 2]) {
      if (candidate < 1 || candidate > last) continue;
      const w = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), candidate)).getUTCDay();
      if (w !== 0 && w !== 6) return candidate === day;
    }
    return false;
  });
}

function dayOfWeekMatches(field: CronField, date: Date): boolean {
  const weekday = date.getUTCDay() + 1;
  if (field.values.has(weekday)) return true;
  const day = date.getUTCDate();
  return field.special.some((s) => {
    if (s.endsWith('L')) return Number(s.slice(0, -1)) === weekday && day + 7 > daysInMonth(date);
    const [d, k] = s.split('#').map(Number);
    return d === weekday && Math.ceil(day / 7) === k;
  });
}
