/**
 * Arithmetic in GF(2^8) built on the primitive polynomial
 * x^8 + x^4 + x^3 + x^2 + 1 (0x11D) with generator alpha = 2.
 */

/** alpha^i for i in [0, 510): doubled so `EXP[a + b]` needs no reduction. */
export const EXP: Uint8Array = new Uint8Array(512);
/** log_alpha(x) for x in [1, 255]; `LOG[0]` is unused. */
export const LOG: Uint8Array = new Uint8Array(256);

{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255] as number;
}

/** The product of two field elements. */
export function mul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[(LOG[a] as number) + (LOG[b] as number)] as number;
}

/** The quotient `a / b`; `b` must not be 0. */
export function div(a: number, b: number): number {
  if (b === 0) throw new RangeError("Cannot divide by zero in GF(256)");
  if (a === 0) return 0;
  return EXP[(LOG[a] as number) + 255 - (LOG[b] as number)] as number;
}

/** alpha raised to `n` (any integer). */
export function pow(n: number): number {
  return EXP[((n % 255) + 255) % 255] as number;
}
