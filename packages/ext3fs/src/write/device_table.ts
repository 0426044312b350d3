import {
  type FsNode,
  lookupNode,
  type NodeKind,
  newDir,
  placeNode,
  splitPath,
  type Timestamp,
} from "./tree.ts";

/** A line of a device table that cannot be used. */
export class DeviceTableError extends SyntaxError {
  /** 1-based line number. */
  readonly line: number;
  /** Creates the error. */
  constructor(message: string, line: number) {
    super(`Cannot use device table line ${line}: ${message}`);
    this.name = "DeviceTableError";
    this.line = line;
  }
}

const TYPES: Record<string, NodeKind> = { f: "file", d: "dir", c: "char", b: "block", p: "fifo" };

/**
 * Applies a genext2fs/makedevs device table to a tree, so device nodes and
 * owners can be set without root. Each line:
 * `path type mode uid gid major minor start inc count` with type `f` (an
 * existing file: set its mode and owner), `d` (a directory, created if
 * missing), `c`/`b` (character/block device), `p` (FIFO); `-` for unused
 * fields; `#` starts a comment. With a count, `count` nodes named
 * `path<start>`, `path<start+1>`, ... get minors `minor + i*inc`.
 *
 * @example Usage
 * ```ts
 * applyDeviceTable(root, "/dev d 755 0 0 - - - - -\n/dev/console c 600 0 0 5 1 - - -\n", now);
 * ```
 */
export function applyDeviceTable(root: FsNode, text: string, time: Timestamp): void {
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const f = line.split(/\s+/);
    if (f.length < 5)
      throw new DeviceTableError(`expected at least 5 fields, got ${f.length}`, lineNo);
    const [path, type, modeText, uidText, gidText] = f as [string, string, string, string, string];
    const kind = TYPES[type];
    if (!kind)
      throw new DeviceTableError(
        `unknown type ${JSON.stringify(type)} (use f, d, c, b or p)`,
        lineNo,
      );
    const num = (v: string | undefined, what: string, base = 10): number | undefined => {
      if (v === undefined || v === "-") return undefined;
      const n = Number.parseInt(v, base);
      if (!Number.isInteger(n) || n < 0 || !/^[0-9a-fA-Fx]+$/.test(v))
        throw new DeviceTableError(`bad ${what} ${v}`, lineNo);
      return n;
    };
    const perm = num(modeText, "mode", 8) ?? (kind === "dir" ? 0o755 : 0o644);
    const uid = num(uidText, "uid") ?? 0;
    const gid = num(gidText, "gid") ?? 0;
    const major = num(f[5], "major") ?? 0;
    const minor = num(f[6], "minor") ?? 0;
    const start = num(f[7], "start") ?? 0;
    const inc = num(f[8], "inc") ?? 1;
    const count = num(f[9], "count");
    const encoder = new TextEncoder();
    const makeDir = () => newDir(0o755, 0, 0, time);
    const apply = (p: string, m: number) => {
      const parts = splitPath(encoder.encode(p));
      if (kind === "file") {
        const node = lookupNode(root, parts);
        if (node?.kind !== "file")
          throw new DeviceTableError(`${p} is not a regular file in the tree`, lineNo);
        Object.assign(node, { perm: perm & 0o7777, uid, gid });
        return;
      }
      if (kind === "dir") {
        const existing = lookupNode(root, parts);
        const dir =
          existing?.kind === "dir" ? existing : placeNode(root, parts, makeDir(), makeDir);
        Object.assign(dir, { perm: perm & 0o7777, uid, gid });
        return;
      }
      const node: FsNode = {
        kind,
        perm: perm & 0o7777,
        uid,
        gid,
        atime: time,
        mtime: time,
        ctime: time,
        size: 0,
      };
      if (kind === "char" || kind === "block") {
        node.major = major;
        node.minor = m;
      }
      placeNode(root, parts, node, makeDir);
    };
    if (count !== undefined && count > 0) {
      for (let i = 0; i < count; i++) apply(`${path}${start + i}`, minor + i * inc);
    } else apply(path, minor);
  });
}
