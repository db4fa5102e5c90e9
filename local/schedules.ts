import type { Template } from './synth';

/** An `AWS::Scheduler::Schedule` of the template that invokes one of its functions. */
export interface LocalSchedule {
  readonly logicalId: string;
  readonly description: string;
  readonly expression: string;
  readonly timezone: string;
  /** Logical ID of the function the schedule invokes. */
  readonly functionLogicalId: string;
  /** The event the schedule sends (its target's `Input`). */
  readonly input: unknown;
}

/** The enabled schedules of the template whose target is one of its Lambda functions. */
export function schedulesFromTemplate(template: Template): LocalSchedule[] {
  const schedules: LocalSchedule[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (resource.Type !== 'AWS::Scheduler::Schedule') continue;
    const p = resource.Properties ?? {};
    if (p.State === 'DISABLED') continue;
    const arn = p.Target?.Arn?.['Fn::GetAtt'] as unknown;
    const functionLogicalId = Array.isArray(arn) && arn[1] === 'Arn' ? String(arn[0]) : undefined;
    if (!functionLogicalId || template.Resources[functionLogicalId]?.Type !== 'AWS::Lambda::Function') continue;
    schedules.push({
      logicalId,
      description: String(p.Description ?? logicalId),
      expression: String(p.ScheduleExpression),
      timezone: String(p.ScheduleExpressionTimezone ?? 'UTC'),
      functionLogicalId,
      input: typeof p.Target.Input === 'string' ? JSON.parse(p.Target.Input) : {},
    });
  }
  return schedules;
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/**
 * When a schedule next fires after `after` (exclusive), as EventBridge Scheduler would: `rate(...)` every interval
 * from `start`, `cron(minutes hours day-of-month month day-of-week year)` in UTC. Undefined for what the local
 * runner does not evaluate (`L`, `W`, `#`, `at(...)`, a time zone other than UTC).
 */
export function nextRun(expression: string, timezone: string, after: Date, start: Date = after): Date | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const interval = Number(rate[1]) * (UNIT_MS[(rate[2] ?? '').replace(/s$/, '')] ?? Number.NaN);
    if (!(interval > 0)) return undefined;
    const elapsed = after.getTime() - start.getTime();
    return new Date(start.getTime() + (Math.floor(Math.max(0, elapsed) / interval) + 1) * interval);
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron || !['UTC', 'Etc/UTC', 'GMT', 'Etc/GMT'].includes(timezone)) return undefined;
  const fields = (cron[1] ?? '').trim().split(/\s+/);
  if (fields.length !== 6) return undefined;
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [string, string, string, string, string, string];
  const matchers = [
    cronField(minutes, 0, 59),
    cronField(hours, 0, 23),
    cronField(dayOfMonth, 1, 31),
    cronField(month, 1, 12, MONTHS),
    cronField(dayOfWeek, 1, 7, DAYS),
    cronField(year, 1970, 2199),
  ];
  if (matchers.some((m) => m === undefined)) return undefined;
  const [min, hour, dom, mon, dow, yr] = matchers as Array<(value: number) => boolean>;
  const t = new Date(Math.floor(after.getTime() / 60_000) * 60_000 + 60_000);
  // At most five years of minutes; an expression that never fires in that span is not run.
  for (let i = 0; i < 5 * 366 * 1440; i++) {
    if (
      yr?.(t.getUTCFullYear()) &&
      mon?.(t.getUTCMonth() + 1) &&
      dom?.(t.getUTCDate()) &&
      dow?.(t.getUTCDay() + 1) &&
      hour?.(t.getUTCHours()) &&
      min?.(t.getUTCMinutes())
    ) {
      return t;
    }
    t.setTime(t.getTime() + 60_000);
  }
  return undefined;
}

/** A matcher for one cron field: `*`, `?`, values, names, ranges, steps and lists of them; undefined if unsupported. */
function cronField(field: string, low: number, high: number, names: readonly string[] = []): ((value: number) => boolean) | undefined {
  if (field === '*' || field === '?') return () => true;
  const allowed = new Set<number>();
  const value = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    return named >= 0 ? named + low : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  };
  for (const part of field.split(',')) {
    const m = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = m[1] === '*' ? low : value(m[1] ?? '');
    const to = m[2] !== undefined ? value(m[2]) : m[3] !== undefined || m[1] === '*' ? high : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    if (!(from >= low && to <= high && from <= to && step >= 1)) return undefined;
    for (let v = from; v <= to; v += step) allowed.add(v);
  }
  return (v) => allowed.has(v);
}

/** Options for {@link startSchedules}. */
export interface ScheduleRunnerOptions {
  /** @default Date.now */
  readonly now?: () => number;
  /** Called with each run's outcome (for the console). */
  readonly onRun?: (schedule: LocalSchedule, outcome: { error?: Error }) => void;
}

/** The running schedules; `stop()` cancels every pending run. */
export interface ScheduleRunner {
  /** The schedules that run, with their next run; and those the runner cannot evaluate. */
  readonly running: ReadonlyArray<{ schedule: LocalSchedule; next: Date }>;
  readonly notRun: readonly LocalSchedule[];
  stop(): void;
}

// setTimeout's longest delay; a later run is re-armed when this one fires.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs the schedules as EventBridge Scheduler would: each one invokes its function with its input when its
 * expression fires, whether or not an earlier run has finished (the runtime gives each its own environment).
 */
export function startSchedules(
  schedules: readonly LocalSchedule[],
  invoke: (schedule: LocalSchedule) => Promise<void>,
  options: ScheduleRunnerOptions = {},
): ScheduleRunner {
  const now = options.now ?? Date.now;
  const start = new Date(now());
  const timers = new Set<NodeJS.Timeout>();
  let stopped = false;
  const running: Array<{ schedule: LocalSchedule; next: Date }> = [];
  const notRun: LocalSchedule[] = [];
  const arm = (schedule: LocalSchedule, at: Date) => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        if (stopped) return;
        if (now() < at.getTime()) return arm(schedule, at);
        invoke(schedule).then(
          () => options.onRun?.(schedule, {}),
          (error: Error) => options.onRun?.(schedule, { error }),
        );
        const next = nextRun(schedule.expression, schedule.timezone, at, start);
        if (next) arm(schedule, next);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, at.getTime() - now())),
    );
    timer.unref?.();
    timers.add(timer);
  };
  for (const schedule of schedules) {
    const next = nextRun(schedule.expression, schedule.timezone, start);
    if (!next) {
      notRun.push(schedule);
      continue;
    }
    running.push({ schedule, next });
    arm(schedule, next);
  }
  return {
    running,
    notRun,
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
