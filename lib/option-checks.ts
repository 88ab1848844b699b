import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { ConfigError } from './errors/index.js';

/**
 * Checks shared by the client's, the producer's and the operators' options: each refuses a wrong
 * value with a ConfigError naming the option.
 */
export function refuseUnknownOptions(options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) throw new ConfigError(name, `one of the known options: ${known.join(', ')}`, 'unknown option');
  }
}

/** An integer in min..max, or the fallback when not given. */
export function integerOption(name: string, value: unknown, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function oneOfOption<T extends string>(name: string, value: unknown, accepted: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !accepted.includes(value as T)) throw new ConfigError(name, `one of ${accepted.map((a) => `'${a}'`).join(', ')}`, value);
  return value as T;
}

export function functionOption<F extends (...args: any[]) => unknown>(name: string, value: unknown, accepted: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new ConfigError(name, accepted, value);
  return value as F;
}

/** An RxJS SchedulerLike, or asyncScheduler (the real clock) when not given. */
export function schedulerOption(name: string, value: unknown): SchedulerLike {
  const scheduler = (value ?? asyncScheduler) as Partial<SchedulerLike>;
  if (typeof scheduler !== 'object' || typeof scheduler.schedule !== 'function' || typeof scheduler.now !== 'function') {
    throw new ConfigError(name, 'an RxJS SchedulerLike', value);
  }
  return scheduler as SchedulerLike;
}
