/** Reads a required environment variable, throwing with its name so a bad deployment fails at cold start. */
export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(`${name} environment variable is not set`);
  }
  return value.trim();
}

/** Reads an optional positive number from the environment, falling back to `fallback` when unset. */
export function numberFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${name} environment variable must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads a required comma-separated list of AWS regions from the environment. */
export function regionsFromEnv(name: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const regions = requireEnv(name, env)
    .split(',')
    .map((region) => region.trim())
    .filter((region) => region !== '');
  const bad = regions.filter((region) => !REGION_PATTERN.test(region));
  if (regions.length === 0 || bad.length > 0) {
    throw new Error(`${name} environment variable must be a comma-separated list of AWS regions, got ${JSON.stringify(env[name])}`);
  }
  return regions;
}

/** Shape of an AWS region name such as `us-east-1` or `us-gov-west-1`. */
export const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
