import { decodeName } from "./_tar_format.ts";
import { TarSyntaxError } from "./tar_syntax_error.ts";

/** One pax record: its keyword and its raw value bytes. */
export interface PaxRecord {
  key: string;
  value: Uint8Array;
}

const utf8 = new TextDecoder("utf-8");

/**
 * Parses the body of a pax `x` or `g` header: records `"%d %s=%s\n"` whose
 * decimal length counts the whole record. Trailing NUL padding is tolerated.
 */
export function parsePaxRecords(bytes: Uint8Array, offset: number): PaxRecord[] {
  const records: PaxRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] === 0) {
      if (bytes.subarray(at).every((b) => b === 0)) break;
    }
    let i = at;
    let length = 0;
    while (
      i < bytes.length &&
      (bytes[i] as number) >= 0x30 &&
      (bytes[i] as number) <= 0x39 &&
      i - at < 10
    ) {
      length = length * 10 + ((bytes[i] as number) - 0x30);
      i++;
    }
    if (i === at || bytes[i] !== 0x20 || length < i - at + 4 || at + length > bytes.length) {
      throw new TarSyntaxError(
        `Cannot parse pax extended header at offset ${offset}: bad record length at byte ${at}`,
        offset,
      );
    }
    const record = bytes.subarray(i + 1, at + length);
    if (record[record.length - 1] !== 0x0a) {
      throw new TarSyntaxError(
        `Cannot parse pax extended header at offset ${offset}: record at byte ${at} does not end with a newline`,
        offset,
      );
    }
    const eq = record.indexOf(0x3d);
    if (eq <= 0) {
      throw new TarSyntaxError(
        `Cannot parse pax extended header at offset ${offset}: record at byte ${at} has no keyword`,
        offset,
      );
    }
    records.push({
      key: utf8.decode(record.subarray(0, eq)),
      value: record.subarray(eq + 1, record.length - 1),
    });
    at += length;
  }
  return records;
}

/** A record's value as text (UTF-8, or Latin-1 when it is not valid UTF-8). */
export function paxText(value: Uint8Array): string {
  return decodeName(value);
}
