import { InvalidArgumentError } from 'commander';

/** Commander argument parsers: a wrong value is reported by commander with the option's name. */

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 1.`);
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`'${value}' is not a whole number ≥ 0.`);
  return n;
}
