import { type FsTree, NodeKind, splitPath, type Timestamp } from "./_tree.ts";
import { ExtDeviceTableError } from "./errors.ts";

const TYPES: Record<string, NodeKind> = {
  f: NodeKind.FILE,
  d: NodeKind.DIR,
  c: NodeKind.CHAR,
  b: NodeKind.BLOCK,
  p: NodeKind.FIFO,
};

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
 * // applyDeviceTable is internal; mkfs's deviceTable option is how it is used:
 * import assert from "node:assert/strict";
 * import { mkdir } from "node:fs/promises";
 * import { writeToFile } from "@bigfile/blockdev/node";
 * import { mkfs, openImageFile } from "@bigfile/ext3fs/node";
 * await mkdir("rootfs");
 * const deviceTable = "/dev d 755 0 0 - - - - -\n/dev/console c 600 0 0 5 1 - - -\n";
 * await writeToFile((await mkfs(["rootfs"], { size: 8 << 20, deviceTable })).chunks(), "root.ext3");
 * const image = await openImageFile("root.ext3");
 * const st = await image.reader.stat("/dev/console");
 * assert.deepEqual([st.type, st.rdev?.major, st.rdev?.minor], ["char-device", 5, 1]);
 * await image.close();
 * ```
 */
export function applyDeviceTable(tree: FsTree, text: string, time: Timestamp): void {
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/#.*/, "").trim();
    if (line === "") return;
    const f = line.split(/\s+/);
    if (f.length < 5)
      throw new ExtDeviceTableError(`expected at least 5 fields, got ${f.length}`, lineNo);
    const [path, type, modeText, uidText, gidText] = f as [string, string, string, string, string];
    const kind = TYPES[type];
    if (!kind)
      throw new ExtDeviceTableError(
        `unknown type ${JSON.stringify(type)} (use f, d, c, b or p)`,
        lineNo,
      );
    const num = (v: string | undefined, what: string, base = 10): number | undefined => {
      if (v === undefined || v === "-") return undefined;
      const n = Number.parseInt(v, base);
      if (!Number.isInteger(n) || n < 0 || !/^[0-9a-fA-Fx]+$/.test(v))
        throw new ExtDeviceTableError(`bad ${what} ${v}`, lineNo);
      return n;
    };
    const perm = num(modeText, "mode", 8) ?? (kind === NodeKind.DIR ? 0o755 : 0o644);
    const uid = num(uidText, "uid") ?? 0;
    const gid = num(gidText, "gid") ?? 0;
    const major = num(f[5], "major") ?? 0;
    const minor = num(f[6], "minor") ?? 0;
    const start = num(f[7], "start") ?? 0;
    const inc = num(f[8], "inc") ?? 1;
    const count = num(f[9], "count");
    const encoder = new TextEncoder();
    const setOwner = (n: number) => {
      tree.perm[n] = perm & 0o7777;
      tree.uid[n] = uid;
      tree.gid[n] = gid;
    };
    const apply = (p: string, m: number) => {
      const parts = splitPath(encoder.encode(p));
      if (kind === NodeKind.FILE) {
        const node = tree.lookupPath(parts);
        if (!node || tree.kind[node] !== NodeKind.FILE)
          throw new ExtDeviceTableError(`${p} is not a regular file in the tree`, lineNo);
        setOwner(node);
        return;
      }
      if (kind === NodeKind.DIR) {
        const existing = tree.lookupPath(parts);
        const dir =
          existing && tree.kind[existing] === NodeKind.DIR
            ? existing
            : tree.placePath(parts, tree.newCreatedDir());
        setOwner(dir);
        return;
      }
      const node = tree.newNode(kind, perm, uid, gid);
      tree.setAllTimes(node, time);
      tree.markCreated(node);
      if (kind === NodeKind.CHAR || kind === NodeKind.BLOCK) tree.setDevice(node, major, m);
      tree.placePath(parts, node);
    };
    if (count !== undefined && count > 0) {
      for (let i = 0; i < count; i++) apply(`${path}${start + i}`, minor + i * inc);
    } else apply(path, minor);
  });
}
