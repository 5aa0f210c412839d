/**
 * Option parsers and options shared by the commands of the `nextrust` CLI.
 * A parser throws commander's InvalidArgumentError, which commander prints as
 * `error: option '--days <n>' argument '0' is invalid. --days must be a whole
 * number >= 1` (exit 2, errors.ts).
 */
import { InvalidArgumentError, Option } from 'commander';
import { phaseStatusSchema } from '../pipeline/status-store';
import { CPU_NAMES } from '../toolchain/cpu';

/** A whole number >= `min` written in decimal digits only ('7'; not '', ' 7', '1e3', '0x10', '1.0', '-1'). */
function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be a whole number >= ${min}`);
    return n;
  };
}

/**
 * Parser of a count that must be at least 1 (`--limit`, `--days` of a report window).
 * @param name the option, for the error (`--days must be a whole number >= 1`).
 * @returns the number. @throws InvalidArgumentError for 0, negative numbers, fractions and anything not digits.
 */
export function positiveInt(name: string): (value: string) => number {
  return wholeNumber(name, 1);
}

/**
 * Parser of a count where 0 means "none" (`rotate-logs --days 0`: keep no day; `--max-bytes 0`).
 * @param name the option, for the error (`--days must be a whole number >= 0`).
 * @returns the number. @throws InvalidArgumentError for negative numbers, fractions and anything not digits.
 */
export function nonNegativeInt(name: string): (value: string) => number {
  return wholeNumber(name, 0);
}

/**
 * Parser of a confidence, a number from 0 to 1 (`--min-confidence`).
 * @throws InvalidArgumentError `expected a number from 0 to 1` (also for '' and non-numbers).
 */
export function confidence(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number from 0 to 1');
  return n;
}

/**
 * `--cpu <variant>`: one of the CPU variants (toolchain/cpu.ts CPU_NAMES). Anything else is refused by commander
 * with `Allowed choices are m68000, ...`; the help lists the choices.
 * @param description the option's help text.
 */
export function cpuOption(description: string): Option {
  return new Option('--cpu <variant>', description).choices(CPU_NAMES);
}

/** `--status <status>`: a phase status (in_progress, completed, failed, blocked: status-store.ts phaseStatusSchema). */
export function phaseStatusOption(description: string): Option {
  return new Option('--status <status>', description).choices(phaseStatusSchema.options);
}
