// A minimal POSIX (pax) tar header writer, used until @bigfile/blockdev ships one.

/** What one tar header describes. */
export interface TarHeaderEntry {
  name: string;
  type: "file" | "directory" | "symlink" | "hardlink" | "char-device" | "block-device" | "fifo";
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: { seconds: number; nanoseconds: number };
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<TarHeaderEntry["type"], string> = {
  file: "0",
  hardlink: "1",
  symlink: "2",
  "char-device": "3",
  "block-device": "4",
  directory: "5",
  fifo: "6",
};

const encoder = new TextEncoder();

function putString(block: Uint8Array, at: number, length: number, text: string | Uint8Array): void {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  block.set(bytes.subarray(0, length), at);
}

function octal(value: number, width: number): string | undefined {
  if (!Number.isSafeInteger(value) || value < 0) return undefined;
  const text = value.toString(8);
  return text.length <= width - 1 ? text.padStart(width - 1, "0") : undefined;
}

function paxRecord(key: string, value: string): string {
  const rest = encoder.encode(` ${key}=${value}\n`).length;
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  return `${length} ${key}=${value}\n`;
}

function rawHeader(
  name: Uint8Array,
  typeflag: string,
  fields: {
    mode: number;
    uid: number;
    gid: number;
    size: number;
    mtime: number;
    linkname?: Uint8Array;
    devmajor?: number;
    devminor?: number;
  },
): Uint8Array {
  const block = new Uint8Array(512);
  putString(block, 0, 100, name);
  putString(block, 100, 8, octal(fields.mode & 0o7777, 8) ?? "0000000");
  putString(block, 108, 8, octal(fields.uid, 8) ?? "0000000");
  putString(block, 116, 8, octal(fields.gid, 8) ?? "0000000");
  putString(block, 124, 12, octal(fields.size, 12) ?? "00000000000");
  putString(block, 136, 12, octal(fields.mtime, 12) ?? "00000000000");
  putString(block, 148, 8, "        ");
  putString(block, 156, 1, typeflag);
  if (fields.linkname) putString(block, 157, 100, fields.linkname);
  putString(block, 257, 6, "ustar\0");
  putString(block, 263, 2, "00");
  putString(block, 329, 8, octal(fields.devmajor ?? 0, 8) ?? "0000000");
  putString(block, 337, 8, octal(fields.devminor ?? 0, 8) ?? "0000000");
  let sum = 0;
  for (const byte of block) sum += byte;
  putString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** The header block(s) of one entry: a pax extended header first when a field does not fit ustar. */
export function tarHeader(entry: TarHeaderEntry): Uint8Array {
  const records: string[] = [];
  const name = encoder.encode(entry.name);
  if (name.length > 100) records.push(paxRecord("path", entry.name));
  const link = entry.linkname === undefined ? undefined : encoder.encode(entry.linkname);
  if (link && link.length > 100) records.push(paxRecord("linkpath", entry.linkname as string));
  if (octal(entry.uid, 8) === undefined) records.push(paxRecord("uid", String(entry.uid)));
  if (octal(entry.gid, 8) === undefined) records.push(paxRecord("gid", String(entry.gid)));
  if (octal(entry.size, 12) === undefined) records.push(paxRecord("size", String(entry.size)));
  if (octal(entry.mtime.seconds, 12) === undefined || entry.mtime.nanoseconds !== 0) {
    records.push(
      paxRecord(
        "mtime",
        `${entry.mtime.seconds}.${String(entry.mtime.nanoseconds).padStart(9, "0")}`,
      ),
    );
  }
  const fields = {
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: entry.type === "file" ? entry.size : 0,
    mtime: Math.max(0, Math.min(entry.mtime.seconds, 0o77777777777)),
    ...(link ? { linkname: link } : {}),
    ...(entry.devmajor !== undefined ? { devmajor: entry.devmajor } : {}),
    ...(entry.devminor !== undefined ? { devminor: entry.devminor } : {}),
  };
  const main = rawHeader(name.subarray(0, 100), TYPEFLAG[entry.type], fields);
  if (records.length === 0) return main;
  const body = encoder.encode(records.join(""));
  const paxName = encoder.encode(
    `PaxHeaders/${entry.name.split("/").filter(Boolean).pop() ?? "entry"}`.slice(0, 100),
  );
  const pax = rawHeader(paxName, "x", {
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: fields.mtime,
  });
  const out = new Uint8Array(512 + Math.ceil(body.length / 512) * 512 + 512);
  out.set(pax, 0);
  out.set(body, 512);
  out.set(main, out.length - 512);
  return out;
}

/** Zero bytes that pad `size` bytes of file data to a 512-byte boundary. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array((512 - (size % 512)) % 512);
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(1024);
}
