import { EXP, LOG, mul, pow } from "./_gf256.ts";

/**
 * Reed-Solomon protection as GRUB's i386-pc core image uses it.
 *
 * The protected bytes are read as columns of 512-byte rows: byte `i` of every
 * row forms one codeword together with byte `i` of every row of the parity
 * area that follows the data. Each codeword is a systematic Reed-Solomon code
 * over GF(2^8) (polynomial 0x11D), message first (highest degree first), with
 * the generator's roots alpha^0 ... alpha^(r-1). Codewords longer than 200 rows
 * are avoided by cutting the data and the parity into proportional blocks of
 * whole rows, encoded one after the other.
 *
 * Written from the algorithm and checked byte for byte against the parity
 * grub-bios-setup writes.
 */

const ROW = 512;
const MAX_BLOCK_ROWS = 200;

const generators = new Map<number, Uint8Array>();

/** The generator polynomial of degree `r`, highest degree first (leading 1). */
function generator(r: number): Uint8Array {
  const cached = generators.get(r);
  if (cached) return cached;
  let g: Uint8Array = new Uint8Array([1]);
  for (let i = 0; i < r; i++) {
    const root = pow(i);
    const next: Uint8Array = new Uint8Array(g.length + 1);
    for (let j = 0; j < g.length; j++) {
      next[j] = (next[j] as number) ^ (g[j] as number);
      next[j + 1] = mul(g[j] as number, root);
    }
    g = next;
  }
  generators.set(r, g);
  return g;
}

/** The `r` parity symbols of `message` (message highest degree first). */
export function rsParity(message: Uint8Array, r: number): Uint8Array {
  if (r < 0 || message.length + r > 255) {
    throw new RangeError(
      `Cannot encode a Reed-Solomon codeword of ${message.length} + ${r} symbols: at most 255`,
    );
  }
  const g = generator(r);
  const p = new Uint8Array(r);
  if (r === 0) return p;
  for (let k = 0; k < message.length; k++) {
    const feedback = (message[k] as number) ^ (p[0] as number);
    if (feedback === 0) {
      p.copyWithin(0, 1);
      p[r - 1] = 0;
      continue;
    }
    const logF = LOG[feedback] as number;
    for (let j = 0; j < r - 1; j++) {
      const gj = g[j + 1] as number;
      p[j] = (p[j + 1] as number) ^ (gj === 0 ? 0 : (EXP[logF + (LOG[gj] as number)] as number));
    }
    const gr = g[r] as number;
    p[r - 1] = gr === 0 ? 0 : (EXP[logF + (LOG[gr] as number)] as number);
  }
  return p;
}

/** One block: `[start, start+dataLength)` data rows, parity at `parityStart`. */
interface Block {
  data: number;
  dataLength: number;
  parity: number;
  parityLength: number;
}

/** How GRUB cuts `dataLength` + `redundancy` bytes into blocks of at most 200 rows. */
function blocks(start: number, dataLength: number, redundancy: number): Block[] {
  const out: Block[] = [];
  let s = dataLength;
  let rs = redundancy;
  let data = start;
  let parity = start + dataLength;
  if (rs === 0) return out;
  while (s > 0) {
    let cs = s;
    let crs = rs;
    const total = cs + crs;
    if (total > MAX_BLOCK_ROWS * ROW) {
      cs = Math.floor((cs * MAX_BLOCK_ROWS) / total) * ROW;
      crs = Math.floor((crs * MAX_BLOCK_ROWS) / total) * ROW;
      if (cs === 0)
        throw new RangeError(
          `Cannot split ${dataLength} bytes for Reed-Solomon parity of ${redundancy}`,
        );
    }
    out.push({ data, dataLength: cs, parity, parityLength: crs });
    data += cs;
    parity += crs;
    s -= cs;
    rs -= crs;
  }
  return out;
}

/** Symbols in column `i` of a run of `length` bytes. */
function columnLength(length: number, i: number): number {
  return Math.floor((length + ROW - 1 - i) / ROW);
}

/**
 * Writes Reed-Solomon parity for `buffer[start, start + dataLength)` into the
 * `redundancy` bytes that follow it, as GRUB does for core.img.
 *
 * @example Usage
 * ```ts
 * import { addReedSolomon, checkReedSolomon } from "@bigfile/grub-mbr";
 * const buf = new Uint8Array(4096);
 * buf.fill(7, 0, 3000);
 * addReedSolomon(buf, 0, 3000, 1096);
 * checkReedSolomon(buf, 0, 3000, 1096).intact; // true
 * ```
 */
export function addReedSolomon(
  buffer: Uint8Array,
  start: number,
  dataLength: number,
  redundancy: number,
): void {
  if (start < 0 || start + dataLength + redundancy > buffer.length) {
    throw new RangeError(
      `Cannot add Reed-Solomon parity: ${dataLength} + ${redundancy} bytes at offset ${start} exceed the ${buffer.length}-byte buffer`,
    );
  }
  for (const block of blocks(start, dataLength, redundancy)) {
    for (let i = 0; i < ROW; i++) {
      const ds = columnLength(block.dataLength, i);
      const rr = columnLength(block.parityLength, i);
      if (ds === 0 || rr === 0) continue;
      const message = new Uint8Array(ds);
      for (let j = 0; j < ds; j++) message[j] = buffer[block.data + ROW * j + i] as number;
      const parity = rsParity(message, rr);
      for (let j = 0; j < rr; j++) buffer[block.parity + ROW * j + i] = parity[j] as number;
    }
  }
}

/** What {@linkcode checkReedSolomon} and {@linkcode repairReedSolomon} found. */
export interface ReedSolomonReport {
  /** Whether every codeword checked clean. */
  intact: boolean;
  /** Codewords checked. */
  codewords: number;
  /** Codewords with a non-zero syndrome. */
  damagedCodewords: number;
  /** Symbols corrected (repair only). */
  correctedBytes: number;
  /** Codewords with more errors than the parity can correct. */
  uncorrectableCodewords: number;
  /** Byte offsets (into the buffer) that were, or would be, corrected. */
  errorOffsets: number[];
}

/**
 * Checks GRUB-style Reed-Solomon parity (the layout of {@linkcode addReedSolomon})
 * without changing the buffer; reports the damage it could locate.
 */
export function checkReedSolomon(
  buffer: Uint8Array,
  start: number,
  dataLength: number,
  redundancy: number,
): ReedSolomonReport {
  return walk(buffer, start, dataLength, redundancy, false);
}

/**
 * Corrects `buffer` in place where GRUB-style Reed-Solomon parity allows:
 * up to floor(r/2) wrong bytes per codeword of r parity symbols.
 */
export function repairReedSolomon(
  buffer: Uint8Array,
  start: number,
  dataLength: number,
  redundancy: number,
): ReedSolomonReport {
  return walk(buffer, start, dataLength, redundancy, true);
}

function walk(
  buffer: Uint8Array,
  start: number,
  dataLength: number,
  redundancy: number,
  fix: boolean,
): ReedSolomonReport {
  if (start < 0 || start + dataLength + redundancy > buffer.length) {
    throw new RangeError(
      `Cannot check Reed-Solomon parity: ${dataLength} + ${redundancy} bytes at offset ${start} exceed the ${buffer.length}-byte buffer`,
    );
  }
  const report: ReedSolomonReport = {
    intact: true,
    codewords: 0,
    damagedCodewords: 0,
    correctedBytes: 0,
    uncorrectableCodewords: 0,
    errorOffsets: [],
  };
  for (const block of blocks(start, dataLength, redundancy)) {
    for (let i = 0; i < ROW; i++) {
      const ds = columnLength(block.dataLength, i);
      const rr = columnLength(block.parityLength, i);
      if (ds === 0 || rr === 0) continue;
      const n = ds + rr;
      const word = new Uint8Array(n);
      const where: number[] = [];
      for (let j = 0; j < ds; j++) where.push(block.data + ROW * j + i);
      for (let j = 0; j < rr; j++) where.push(block.parity + ROW * j + i);
      for (let k = 0; k < n; k++) word[k] = buffer[where[k] as number] as number;
      report.codewords++;
      const errors = decodeCodeword(word, rr);
      if (errors === null) {
        report.intact = false;
        report.damagedCodewords++;
        report.uncorrectableCodewords++;
        continue;
      }
      if (errors.length === 0) continue;
      report.intact = false;
      report.damagedCodewords++;
      for (const { position, magnitude } of errors) {
        const offset = where[position] as number;
        report.errorOffsets.push(offset);
        if (fix) buffer[offset] = (buffer[offset] as number) ^ magnitude;
        report.correctedBytes += fix ? 1 : 0;
      }
    }
  }
  report.errorOffsets.sort((a, b) => a - b);
  return report;
}

/** The syndromes S_j = c(alpha^j), j in [0, r). */
export function rsSyndromes(word: Uint8Array, r: number): Uint8Array {
  const s = new Uint8Array(r);
  for (let j = 0; j < r; j++) {
    const x = pow(j);
    let acc = 0;
    for (let k = 0; k < word.length; k++) acc = mul(acc, x) ^ (word[k] as number);
    s[j] = acc;
  }
  return s;
}

/**
 * Locates and sizes the errors of one codeword (Berlekamp-Massey, Chien search,
 * Forney). Returns `[]` when clean, `null` when uncorrectable.
 */
export function decodeCodeword(
  word: Uint8Array,
  r: number,
): { position: number; magnitude: number }[] | null {
  const n = word.length;
  const s = rsSyndromes(word, r);
  if (s.every((v) => v === 0)) return [];
  // Berlekamp-Massey: the error locator Lambda(x), lowest degree first.
  let lambda = [1];
  let prev = [1];
  let l = 0;
  let m = 1;
  let b = 1;
  for (let k = 0; k < r; k++) {
    let d = s[k] as number;
    for (let i = 1; i <= l; i++) d ^= mul(lambda[i] ?? 0, s[k - i] as number);
    if (d === 0) {
      m++;
      continue;
    }
    const coef = mul(d, inverse(b));
    const next = lambda.slice();
    for (let i = 0; i < prev.length; i++) {
      const idx = i + m;
      while (next.length <= idx) next.push(0);
      next[idx] = (next[idx] as number) ^ mul(coef, prev[i] as number);
    }
    if (2 * l <= k) {
      prev = lambda;
      l = k + 1 - l;
      b = d;
      m = 1;
    } else {
      m++;
    }
    lambda = next;
  }
  while (lambda.length > 1 && lambda[lambda.length - 1] === 0) lambda.pop();
  if (lambda.length - 1 !== l || 2 * l > r) return null;
  // Chien search: position k holds the power n-1-k; X = alpha^(n-1-k) is a root of Lambda(1/X).
  const errors: { position: number; magnitude: number }[] = [];
  // Omega(x) = S(x) Lambda(x) mod x^r.
  const omega = new Array<number>(r).fill(0);
  for (let i = 0; i < lambda.length; i++) {
    for (let j = 0; j < r && i + j < r; j++)
      omega[i + j] = (omega[i + j] as number) ^ mul(lambda[i] as number, s[j] as number);
  }
  for (let k = 0; k < n; k++) {
    const power = n - 1 - k;
    const xInv = pow(-power);
    if (evalPoly(lambda, xInv) !== 0) continue;
    // Forney with first root alpha^0: e = X * Omega(X^-1) / Lambda'(X^-1).
    let deriv = 0;
    for (let i = 1; i < lambda.length; i += 2)
      deriv ^= mul(lambda[i] as number, pow(-power * (i - 1)));
    if (deriv === 0) return null;
    const magnitude = mul(pow(power), mul(evalPoly(omega, xInv), inverse(deriv)));
    errors.push({ position: k, magnitude });
  }
  if (errors.length !== l) return null;
  return errors;
}

function evalPoly(p: number[], x: number): number {
  let acc = 0;
  for (let i = p.length - 1; i >= 0; i--) acc = mul(acc, x) ^ (p[i] as number);
  return acc;
}

function inverse(x: number): number {
  return EXP[255 - (LOG[x] as number)] as number;
}
