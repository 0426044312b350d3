/** Options for {@linkcode parseSize}. */
export interface ParseSizeOptions {
  /** Bytes in one `s` (sector) unit. @default 512 */
  sectorSize?: number;
}

const BINARY = ["", "K", "M", "G", "T", "P", "E"];

/**
 * Parses a size as the disk tools write it: bytes (`4141875200`), binary
 * suffixes (`4G`, `4GiB`, `512M`, `64k`), decimal ones as util-linux reads them
 * (`4GB` = 4·10⁹), or sectors (`8080632s`). Throws `SyntaxError` for text that
 * is not a size and `RangeError` for one past 2⁵³.
 *
 * @example Usage
 * ```ts
 * import { parseSize } from "@bigfile/blockdev";
 * parseSize("8080632s"); // 4137283584
 * parseSize("4GiB"); // 4294967296
 * ```
 */
export function parseSize(text: string, options: ParseSizeOptions = {}): number {
  const sectorSize = options.sectorSize ?? 512;
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) {
    throw new SyntaxError(
      `Cannot parse size '${text}': expected bytes (4141875200), a suffix (512M, 4G, 4GiB) or sectors (8080632s)`,
    );
  }
  const [, whole = "", fraction = "", unitText = ""] = m;
  const unit = unitText.toLowerCase();
  let multiplier: number;
  if (unit === "" || unit === "b") multiplier = 1;
  else if (unit === "s") multiplier = sectorSize;
  else {
    const letter = unit[0]?.toUpperCase() ?? "";
    const power = BINARY.indexOf(letter);
    const rest = unit.slice(1);
    if (power <= 0 || !["", "ib", "b"].includes(rest)) {
      throw new SyntaxError(
        `Cannot parse size '${text}': unknown unit '${unitText}' (use s, K, M, G, T, KiB..TiB, KB..TB)`,
      );
    }
    multiplier = (rest === "b" ? 1000 : 1024) ** power;
  }
  if (fraction && multiplier === 1) {
    throw new SyntaxError(`Cannot parse size '${text}': a byte count must be a whole number`);
  }
  const value = Number(`${whole}.${fraction || "0"}`) * multiplier;
  const bytes = fraction ? Math.round(value) : Number(whole) * multiplier;
  if (!Number.isSafeInteger(bytes)) {
    throw new RangeError(`Cannot use size '${text}': ${bytes} bytes is beyond 2^53`);
  }
  if (unit === "s" && fraction) {
    throw new SyntaxError(`Cannot parse size '${text}': a sector count must be a whole number`);
  }
  return bytes;
}

/**
 * Formats bytes for people: `4141875200` gives `3.86 GiB`; exact multiples of
 * a unit drop the decimals (`512 MiB`); under 1 KiB, `N bytes`.
 */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  let power = 0;
  let value = bytes;
  while (value >= 1024 && power < BINARY.length - 1) {
    value /= 1024;
    power++;
  }
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2);
  return `${text} ${BINARY[power]}iB`;
}
