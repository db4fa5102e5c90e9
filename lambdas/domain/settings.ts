import { getStringFromEnv } from '@aws-lambda-powertools/commons/utils/env';

/**
 * The runtime contract between a construct and its handler: one environment variable, named once, written by the
 * construct with `format` and read by the handler with `parse`. There are no fallback defaults at run time: the
 * construct always writes every variable, so a missing one is a broken deployment and fails the cold start.
 */
export interface EnvVariable<T> {
  readonly name: string;
  /** The value as the construct writes it into the function's environment. */
  format(value: T): string;
  /** The value the handler reads; throws an error naming the variable when the text is not a valid value. */
  parse(raw: string): T;
}

/** The variables of one function, by the name the handler uses for their values. */
export type EnvVariables = Record<string, EnvVariable<unknown>>;

/** The parsed values of a function's variables. */
export type EnvValues<V extends EnvVariables> = { readonly [K in keyof V]: V[K] extends EnvVariable<infer T> ? T : never };

/** Shape of an AWS region name such as `us-east-1` or `us-gov-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** A non-empty string, such as a table name. */
export function stringVariable(name: string): EnvVariable<string> {
  return { name, format: (value) => value, parse: (raw) => raw };
}

/** A positive number (seconds, minutes, requests per second). */
export function positiveNumberVariable(name: string): EnvVariable<number> {
  return {
    name,
    format: (value) => String(value),
    parse: (raw) => {
      const value = Number(raw);
      if (!Number.isFinite(value) || value <= 0) {
        throw new Error(`${name} environment variable must be a positive number, got ${JSON.stringify(raw.slice(0, 40))}`);
      }
      return value;
    },
  };
}

/** One of a fixed set of words. */
export function choiceVariable<const T extends string>(name: string, choices: readonly T[]): EnvVariable<T> {
  return {
    name,
    format: (value) => value,
    parse: (raw) => {
      if (!(choices as readonly string[]).includes(raw)) {
        throw new Error(
          `${name} environment variable must be ${choices.map((c) => JSON.stringify(c)).join(' or ')}, got ${JSON.stringify(raw.slice(0, 40))}`,
        );
      }
      return raw as T;
    },
  };
}

/** A comma-separated list of AWS regions. */
export function regionListVariable(name: string): EnvVariable<readonly string[]> {
  return {
    name,
    format: (regions) => regions.join(','),
    parse: (raw) => {
      const regions = raw
        .split(',')
        .map((region) => region.trim())
        .filter((region) => region !== '');
      if (regions.length === 0 || regions.some((region) => !REGION_PATTERN.test(region))) {
        throw new Error(
          `${name} environment variable must be a comma-separated list of AWS regions, got ${JSON.stringify(raw.slice(0, 200))}`,
        );
      }
      return regions;
    },
  };
}

/**
 * Reads and parses every variable of `variables` (with Powertools' environment helper), failing on the first one
 * that is missing, empty or invalid with an error that names it.
 */
export function readEnvironment<V extends EnvVariables>(variables: V): EnvValues<V> {
  const values: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(variables)) {
    const errorMessage = `${variable.name} environment variable is not set`;
    const raw = getStringFromEnv({ key: variable.name, errorMessage });
    if (raw === '') throw new Error(errorMessage);
    values[key] = variable.parse(raw);
  }
  return values as EnvValues<V>;
}

/**
 * The environment a construct writes for `values`. Values may be CDK tokens (a table name), which are written as
 * they are; every other value goes through the variable's `format`.
 */
export function writeEnvironment<V extends EnvVariables>(
  variables: V,
  values: { readonly [K in keyof V]: EnvValues<V>[K] },
): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [key, variable] of Object.entries(variables)) {
    environment[variable.name] = variable.format(values[key as keyof V]);
  }
  return environment;
}
