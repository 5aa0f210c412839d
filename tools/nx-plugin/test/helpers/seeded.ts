/**
 * Deterministic pseudo-random numbers for tests that plant generated secrets or data: a 32-bit linear congruential
 * generator (the Numerical Recipes constants 1664525 and 1013904223), so every run plants the same text.
 * @returns a function giving numbers in [0, 1).
 */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Letters and digits, for generated tokens. */
export const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
