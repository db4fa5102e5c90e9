import type { Problem, ProblemCode, Severity } from '../../client/contract';

/** A problem of the guard's answer. */
export function problem(code: ProblemCode, severity: Severity, message: string, details: Record<string, unknown> = {}): Problem {
  return { code, severity, message, details };
}

/** `problems` with the blocks first, each group in its original order (the order the response lists them in). */
export function blocksFirst(problems: readonly Problem[]): Problem[] {
  return [...problems.filter((p) => p.severity === 'block'), ...problems.filter((p) => p.severity === 'warn')];
}
