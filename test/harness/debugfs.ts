/**
 * debugfs as an oracle: read an ext2/ext3 image (at a byte offset) the way
 * e2fsprogs sees it — files, metadata, a whole tree.
 *
 * @module
 */
import {
  chmod,
  lchown,
  link,
  lutimes,
  mkdir,
  mkdtemp,
  readFile,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import {
  type EntryType,
  hashFile,
  type TreeEntry,
  type TreeSnapshot,
  typeOfMode,
} from "./compare_trees.ts";
import { withOffset } from "./e2fsck.ts";

/** Options of the debugfs helpers. */
export interface DebugfsOptions {
  /** Byte offset of the filesystem in the image. @default 0 */
  offset?: number;
}

const ENV = { LANG: "C", LC_ALL: "C" };

/**
 * Runs debugfs commands (one `-f` batch, read-only) and returns stdout, where
 * each command's output follows a `debugfs: COMMAND` line. Throws when
 * debugfs cannot open the filesystem.
 */
export async function debugfsRun(
  image: string,
  commands: readonly string[],
  options: DebugfsOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), "bigfile-debugfs-"));
  try {
    const script = join(dir, "commands");
    await writeFile(script, `${commands.join("\n")}\n`);
    const r = await execa("debugfs", ["-f", script, withOffset(image, options.offset)], {
      reject: false,
      stdin: "ignore",
      env: ENV,
      maxBuffer: 1 << 30,
    });
    if (r.exitCode !== 0 || /debugfs: .*while (trying to open|opening filesystem)/.test(r.stderr)) {
      throw new Error(`debugfs cannot open ${image}: ${r.stderr.trim()}`);
    }
    return { stdout: r.stdout, stderr: r.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The bytes of one file in the image (`debugfs -R "cat PATH"`).
 *
 * @example
 * ```ts
 * const text = (await debugfsCat("disk.img", "/bigfile-test/guest-result.txt", { offset })).toString();
 * ```
 */
export async function debugfsCat(
  image: string,
  path: string,
  options: DebugfsOptions = {},
): Promise<Buffer> {
  const r = await execa("debugfs", ["-R", `cat "${path}"`, withOffset(image, options.offset)], {
    reject: false,
    stdin: "ignore",
    env: ENV,
    encoding: "buffer",
    maxBuffer: 1 << 30,
    // The file's bytes exactly: execa would strip a final newline.
    stripFinalNewline: false,
  });
  const stderr = Buffer.from(r.stderr).toString();
  if (
    /File not found|while (trying to open|opening filesystem)|not found by ext2_lookup/.test(stderr)
  ) {
    throw new Error(`debugfs cannot cat ${path}: ${stderr.trim()}`);
  }
  return Buffer.from(r.stdout);
}

/**
 * Plain `debugfs -R "rdump / DIR"`: regular files, directories and symlinks
 * only (debugfs skips devices, FIFOs and sockets and does not keep hard
 * links). For a faithful copy use {@link debugfsExtract}.
 */
export async function debugfsRdump(
  image: string,
  dir: string,
  options: DebugfsOptions = {},
): Promise<{ exitCode: number | undefined; stderr: string }> {
  await mkdir(dir, { recursive: true });
  const r = await execa("debugfs", ["-R", `rdump / "${dir}"`, withOffset(image, options.offset)], {
    reject: false,
    stdin: "ignore",
    env: ENV,
  });
  return { exitCode: r.exitCode, stderr: r.stderr };
}

/** Splits a batch's stdout into [command, output] pairs. */
function splitBatch(stdout: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let current: [string, string[]] | undefined;
  for (const line of stdout.split("\n")) {
    if (line.startsWith("debugfs: ")) {
      if (current) out.push([current[0], current[1].join("\n")]);
      current = [line.slice("debugfs: ".length), []];
    } else current?.[1].push(line);
  }
  if (current) out.push([current[0], current[1].join("\n")]);
  return out;
}

interface Listed {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  path: string;
}

function hexSeconds(text: string, field: string): number {
  const m = new RegExp(`(?:^|\\s)${field}: 0x([0-9a-f]+)`, "m").exec(text);
  return m?.[1] ? Number.parseInt(m[1], 16) : 0;
}

/**
 * Snapshot of the tree inside an image, read with debugfs (`ls -p` per
 * directory, `stat` per inode, `dump` for contents), for
 * {@link compareTrees}. Inode identities are the image's inode numbers, so
 * hard links group as in the image.
 */
export async function debugfsTree(
  image: string,
  options: DebugfsOptions & { contents?: boolean } = {},
): Promise<TreeSnapshot> {
  const listed: Listed[] = [{ ino: 2, mode: 0o40755, uid: 0, gid: 0, path: "/" }];
  let level: Listed[] = [listed[0] as Listed];
  while (level.length > 0) {
    const { stdout } = await debugfsRun(
      image,
      level.map((d) => `ls -p <${d.ino}>`),
      options,
    );
    const next: Listed[] = [];
    const outputs = splitBatch(stdout);
    level.forEach((dir, i) => {
      const text = outputs[i]?.[1] ?? "";
      for (const line of text.split("\n")) {
        if (!line.startsWith("/") || !line.endsWith("/")) continue;
        const parts = line.slice(1, -1).split("/");
        if (parts.length < 6) continue;
        const [ino, mode, uid, gid] = parts
          .slice(0, 4)
          .map((p, k) => Number.parseInt(p, k === 1 ? 8 : 10) >>> 0);
        const name = parts.slice(4, -1).join("/");
        if (name === "." || name === ".." || !ino) continue;
        const entry: Listed = {
          ino,
          mode: mode ?? 0,
          uid: uid ?? 0,
          gid: gid ?? 0,
          path: dir.path === "/" ? `/${name}` : `${dir.path}/${name}`,
        };
        listed.push(entry);
        if (((mode ?? 0) & 0o170000) === 0o040000) next.push(entry);
      }
    });
    level = next;
  }

  const inodes = [...new Set(listed.map((e) => e.ino))];
  const stats = new Map<number, string>();
  const { stdout } = await debugfsRun(
    image,
    inodes.map((ino) => `stat <${ino}>`),
    options,
  );
  splitBatch(stdout).forEach(([, text], i) => {
    const ino = inodes[i];
    if (ino !== undefined) stats.set(ino, text);
  });

  // Contents: regular files, and symlinks whose target is not in the inode.
  const work = await mkdtemp(join(tmpdir(), "bigfile-debugfs-tree-"));
  try {
    const toDump = new Map<number, string>();
    for (const e of listed) {
      const type = typeOfMode(e.mode);
      const text = stats.get(e.ino) ?? "";
      if (
        (type === "file" && options.contents !== false) ||
        (type === "symlink" && !text.includes("Fast link dest:"))
      ) {
        toDump.set(e.ino, join(work, String(e.ino)));
      }
    }
    if (toDump.size > 0) {
      await debugfsRun(
        image,
        [...toDump].map(([ino, path]) => `dump <${ino}> "${path}"`),
        options,
      );
    }

    const entries = new Map<string, TreeEntry>();
    for (const e of listed) {
      const text = stats.get(e.ino) ?? "";
      const type: EntryType = typeOfMode(e.mode);
      const size = Number(/\sSize: (\d+)/.exec(text)?.[1] ?? 0);
      const entry: TreeEntry = {
        path: e.path,
        type,
        mode: e.mode & 0o7777,
        uid: e.uid,
        gid: e.gid,
        size: type === "file" || type === "symlink" ? size : 0,
        mtime: hexSeconds(text, "mtime"),
        atime: hexSeconds(text, "atime"),
        nlink: Number(/Links: (\d+)/.exec(text)?.[1] ?? 0),
        inode: String(e.ino),
      };
      if (type === "symlink") {
        const fast = /^Fast link dest: "(.*)"$/m.exec(text);
        entry.target = fast
          ? (fast[1] ?? "")
          : (
              await readFile(toDump.get(e.ino) ?? "/nonexistent").catch(() => Buffer.alloc(0))
            ).toString();
      }
      if (type === "char" || type === "block") {
        const m = /Device major\/minor number: (\d+):(\d+)/.exec(text);
        entry.rdev = { major: Number(m?.[1] ?? -1), minor: Number(m?.[2] ?? -1) };
      }
      if (type === "file" && options.contents !== false) {
        const dumped = toDump.get(e.ino);
        entry.sha256 = dumped ? await hashFile(dumped).catch(() => "unreadable") : "unreadable";
      }
      entries.set(e.path, entry);
    }
    return { entries };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function makeSpecial(path: string, entry: TreeEntry): Promise<void> {
  if (entry.type === "char" || entry.type === "block") {
    const kind = entry.type === "char" ? "c" : "b";
    await execa("mknod", [
      path,
      kind,
      String(entry.rdev?.major ?? 0),
      String(entry.rdev?.minor ?? 0),
    ]);
  } else if (entry.type === "fifo") {
    await execa("mknod", [path, "p"]);
  } else if (entry.type === "socket") {
    await execa("python3", [
      "-c",
      "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      path,
    ]);
  }
}

/**
 * Extracts the whole tree of an image into `dir` (which must be empty or
 * absent) faithfully, using debugfs to read it: regular files (`dump`),
 * directories, symlinks, devices, FIFOs, sockets, hard links, modes, owners
 * and times. Returns the snapshot it read.
 */
export async function debugfsExtract(
  image: string,
  dir: string,
  options: DebugfsOptions = {},
): Promise<TreeSnapshot> {
  const tree = await debugfsTree(image, { ...options, contents: false });
  await mkdir(dir, { recursive: true });
  const staging = join(dir, ".bigfile-extract");
  await mkdir(staging);
  const files = [...tree.entries.values()].filter((e) => e.type === "file");
  const firstOf = new Map<string, string>();
  for (const e of files) if (!firstOf.has(e.inode)) firstOf.set(e.inode, e.path);
  if (firstOf.size > 0) {
    await debugfsRun(
      image,
      [...firstOf.keys()].map((ino) => `dump <${ino}> "${join(staging, ino)}"`),
      options,
    );
  }
  const host = (p: string) => (p === "/" ? dir : join(dir, p));
  const ordered = [...tree.entries.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const e of ordered) {
    const path = host(e.path);
    if (e.path === "/") continue;
    if (e.type === "dir") await mkdir(path);
    else if (e.type === "symlink") await symlink(e.target ?? "", path);
    else if (e.type === "file") {
      const first = firstOf.get(e.inode);
      if (first === e.path) await rename(join(staging, e.inode), path);
    } else await makeSpecial(path, e);
  }
  // Hard links after every first copy exists (a link may sort before its first path).
  for (const e of files) {
    const first = firstOf.get(e.inode);
    if (first !== undefined && first !== e.path) await link(host(first), host(e.path));
  }
  await rm(staging, { recursive: true, force: true });
  // Metadata, deepest first so that directory times stay as set.
  for (const e of ordered.reverse()) {
    const path = host(e.path);
    await lchown(path, e.uid, e.gid);
    if (e.type !== "symlink") await chmod(path, e.mode);
    await lutimes(path, e.atime, e.mtime);
  }
  return tree;
}
