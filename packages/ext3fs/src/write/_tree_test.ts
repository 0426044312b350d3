import { describe, expect, it } from "vitest";
import { type ContentFactory, FsTree, NodeKind, splitPath } from "./_tree.ts";

const enc = (text: string) => new TextEncoder().encode(text);
const dec = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function names(tree: FsTree, dir: number): string[] {
  return Array.from(tree.sortedEntries(dir), (e) => dec(tree.name(e)));
}

describe("FsTree", () => {
  it("places, finds and overlays: files replace files, directories merge", () => {
    const tree = new FsTree();
    const etc = tree.placePath([enc("etc")], tree.newNode(NodeKind.DIR, 0o755, 0, 0));
    const passwd = tree.newNode(NodeKind.FILE, 0o644, 0, 0);
    tree.place(etc, enc("passwd"), passwd);
    expect(tree.lookupPath(splitPath(enc("/etc/passwd")))).toBe(passwd);

    // A later directory at the same path merges: its metadata, both children.
    const etc2 = tree.newNode(NodeKind.DIR, 0o700, 5, 6);
    expect(tree.placePath([enc("etc")], etc2)).toBe(etc);
    expect([tree.perm[etc], tree.uid[etc], tree.gid[etc]]).toEqual([0o700, 5, 6]);
    const passwd2 = tree.newNode(NodeKind.FILE, 0o600, 0, 0);
    tree.place(etc, enc("passwd"), passwd2);
    tree.place(etc, enc("group"), tree.newNode(NodeKind.FILE, 0o644, 0, 0));
    expect(tree.lookupPath([enc("etc"), enc("passwd")])).toBe(passwd2);
    expect(names(tree, etc)).toEqual(["group", "passwd"]);

    // A file in the way of a parent is replaced by a directory mkfs makes.
    tree.placePath([enc("x")], tree.newNode(NodeKind.FILE, 0o644, 0, 0));
    const deep = tree.newNode(NodeKind.FIFO, 0o600, 0, 0);
    tree.placePath(splitPath(enc("x/y/z")), deep);
    const x = tree.lookupPath([enc("x")]);
    expect(tree.kind[x]).toBe(NodeKind.DIR);
    expect(tree.isCreated(x)).toBe(true);
    expect(tree.lookupPath(splitPath(enc("x/y/z")))).toBe(deep);
    expect(tree.lookupPath(splitPath(enc("x/nope")))).toBe(0);
  });

  it("sorts entries in byte order of their names (UTF-8 after ASCII)", () => {
    const tree = new FsTree();
    for (const name of ["é", "b", "B", "a.b", "a", "\u00ff", "z"]) {
      tree.placeText(FsTree.ROOT, name, tree.newNode(NodeKind.FILE, 0o644, 0, 0));
    }
    expect(names(tree, FsTree.ROOT)).toEqual(["B", "a", "a.b", "b", "z", "é", "\u00ff"]);
  });

  it("finds every one of 100k names, before and after compacting, and keeps placing after", () => {
    const tree = new FsTree();
    const dirs = [FsTree.ROOT];
    for (let d = 0; d < 10; d++) {
      const dir = tree.newNode(NodeKind.DIR, 0o755, 0, 0);
      tree.placeText(FsTree.ROOT, `d${d}`, dir);
      dirs.push(dir);
    }
    const node = (i: number) => i + 100; // distinct fake rows are enough for lookups
    for (let i = 0; i < 100_000; i++) tree.placeText(dirs[i % 11] as number, `n${i}`, node(i));
    const check = () => {
      for (let i = 0; i < 100_000; i += 997) {
        const e = tree.lookup(dirs[i % 11] as number, enc(`n${i}`));
        expect(tree.entryNode[e]).toBe(node(i));
        expect(tree.lookup(dirs[(i + 1) % 11] as number, enc(`n${i}`))).toBe(0);
      }
    };
    check();
    tree.compact();
    expect(tree.kind.length).toBe(tree.nodeCount);
    check();
    tree.placeText(FsTree.ROOT, "late", node(7));
    expect(tree.entryNode[tree.lookup(FsTree.ROOT, enc("late"))]).toBe(node(7));
    check();
  });

  it("makes content readers from the path a file was found at, or a spool offset", () => {
    const tree = new FsTree();
    const dirOrigin = tree.addOrigin({ kind: "directory", root: enc("/src/root") });
    const spool = tree.addOrigin({ kind: "spool", path: "/tmp/spool", label: "boot.tar" });
    const usr = tree.placePath([enc("usr")], tree.newNode(NodeKind.DIR, 0o755, 0, 0));
    const ls = tree.newNode(NodeKind.FILE, 0o755, 0, 0);
    tree.place(usr, enc("ls"), ls);
    tree.setContent(ls, 1234, dirOrigin, tree.lastEntry);
    const grub = tree.newNode(NodeKind.FILE, 0o644, 0, 0);
    tree.placePath(splitPath(enc("boot/grub/grub.cfg")), grub);
    tree.setContent(grub, 99, spool, tree.lastEntry, 8192);
    const seen: string[] = [];
    const factory: ContentFactory = (origin, path, offset, label) => {
      seen.push(`${origin.kind} ${dec(path)} ${offset} ${label}`);
      return { label: label ?? dec(path), read: async () => 0 };
    };
    tree.content(ls, factory);
    tree.content(grub, factory);
    expect(seen).toEqual([
      "directory /src/root/usr/ls 0 undefined",
      "spool  8192 boot.tar:boot/grub/grub.cfg",
    ]);
    expect(tree.size[ls]).toBe(1234);
  });

  it("keeps symlink targets, device numbers and times", () => {
    const tree = new FsTree();
    const link = tree.newNode(NodeKind.SYMLINK, 0o777, 0, 0);
    tree.setTarget(link, enc("../lib/x"));
    const dev = tree.newNode(NodeKind.CHAR, 0o600, 0, 0);
    tree.setDevice(dev, 4095, 1048575);
    tree.setTime(dev, 1, -1, 999_999_999);
    expect(dec(tree.target(link))).toBe("../lib/x");
    expect([tree.major(dev), tree.minor(dev)]).toEqual([4095, 1048575]);
    expect([tree.timeSeconds(dev, 1), tree.timeNanoseconds(dev, 1)]).toEqual([-1, 999_999_999]);
  });

  it("splits paths, dropping empty parts and '.', refusing '..'", () => {
    expect(splitPath(enc("/a//./b/")).map(dec)).toEqual(["a", "b"]);
    expect(() => splitPath(enc("a/../b"))).toThrow(/"\.\."/);
  });
});
