/**
 * One directory of the filesystem at a time, merged from the directory
 * sources laid over each other: what the walk writer ({@linkcode
 * ./_walk_writer.ts}) holds instead of the whole tree. The merge follows
 * {@linkcode FsTree.place}: a later object replaces an earlier one of the
 * same name, two directories merge (the later one's metadata wins).
 */
import { lstatSync } from "node:fs";
import {
  joinPath,
  nodeFromStat,
  placeFromSource,
  readNames,
  type SourceOwnership,
} from "./_dir_source_file.ts";
import { ShadowMode, type ShadowNode, type TarShadow } from "./_tar_shadow.ts";
import { FsTree, NodeKind, type TimeField } from "./_tree.ts";

/** Where a directory is in one source. */
export interface DirPlace {
  /** Index of the source (hard links are links within one source). */
  source: number;
  path: string | Buffer;
  /** For a tar source: its shadow, where `path` is. */
  shadow?: TarShadow;
}

/** A directory and its children, merged. */
export interface Listing {
  /** Row 1 is the directory; its entries are its children (no grandchildren). */
  tree: FsTree;
  /** Where each child directory is, source by source. */
  places: Map<number, DirPlace[]>;
  /** Children that are hard-linked in their source: their (source, dev, ino) key. */
  linkKeys: Map<number, string>;
  /** Children whose source has fewer bytes allocated than their size, with their path. */
  maybeSparse: Map<number, string | Buffer>;
  /** Every other regular file child, with its path (to check it can be read). */
  files: Map<number, string | Buffer>;
}

/**
 * Lists the directory found at `places` (several when sources overlay it;
 * none for a directory mkfs creates, with `perm`). Child directories are not
 * listed, only named, with their places.
 */
export function listDirectory(
  places: readonly DirPlace[],
  own: SourceOwnership,
  perm = 0o755,
): Listing {
  const tree = new FsTree(perm);
  const listing: Listing = {
    tree,
    places: new Map(),
    linkKeys: new Map(),
    maybeSparse: new Map(),
    files: new Map(),
  };
  const linked = new Map<string, number>();
  for (const place of places) {
    if (place.shadow) {
      listShadow(listing, place, place.shadow, linked);
      continue;
    }
    const top = lstatSync(place.path, { bigint: true });
    if (!top.isDirectory()) {
      throw new TypeError(
        `Cannot read ${place.path.toString()}: no longer a directory (changed while mkfs ran?)`,
      );
    }
    const origin = tree.addOrigin({ kind: "directory", root: Buffer.from(place.path) });
    tree.placePath([], nodeFromStat(tree, top, Number(top.mode), NodeKind.DIR, own, place.path));
    for (const name of readNames(place.path)) {
      const childPath = joinPath(place.path, name);
      const found = placeFromSource(
        tree,
        FsTree.ROOT,
        name,
        childPath,
        origin,
        own,
        linked,
        `${place.source}:`,
      );
      if (!found?.fresh) continue;
      const { node, placed } = found;
      if (found.key) listing.linkKeys.set(node, found.key);
      if (found.read === "sparse") listing.maybeSparse.set(node, childPath);
      else if (found.read === "check") listing.files.set(node, childPath);
      else if (found.kind === NodeKind.DIR) {
        const dirPlace = { source: place.source, path: childPath };
        if (placed === node) listing.places.set(node, [dirPlace]);
        else listing.places.get(placed)?.push(dirPlace);
      }
    }
  }
  return listing;
}

/** A node for object `id` of a tar shadow. */
function nodeFromShadow(tree: FsTree, record: ShadowNode): number {
  const node = tree.newNode(record.kind, record.perm, record.uid, record.gid);
  for (let f = 0; f < 3; f++)
    tree.setTime(
      node,
      f as TimeField,
      record.times[f * 2] as number,
      record.times[f * 2 + 1] as number,
    );
  if (record.kind === NodeKind.SYMLINK) tree.setTarget(node, record.target);
  if (record.kind === NodeKind.CHAR || record.kind === NodeKind.BLOCK)
    tree.setDevice(node, record.major, record.minor);
  if (record.created) tree.markCreated(node);
  if (record.xattrs) tree.xattrs.set(node, record.xattrs);
  return node;
}

/** Adds the shadow directory at `place` to a listing, as the tree writer lays a tar over the tree. */
function listShadow(
  listing: Listing,
  place: DirPlace,
  shadow: TarShadow,
  linked: Map<string, number>,
): void {
  const tree = listing.tree;
  const dir = place.path as Buffer;
  const meta = shadow.readDir(dir);
  if (meta.mode !== ShadowMode.THROUGH && meta.id !== 0)
    tree.placePath([], nodeFromShadow(tree, shadow.read(meta.id)));
  const origin = tree.addOrigin({ kind: "spool", path: shadow.spool.path, label: shadow.label });
  for (const child of shadow.children(dir)) {
    if (child.dir) {
      const e = tree.lookup(FsTree.ROOT, child.name);
      const existing = e ? (tree.entryNode[e] as number) : 0;
      const dirPlace: DirPlace = { source: place.source, path: child.path, shadow };
      if (child.mode === ShadowMode.THROUGH && existing && tree.kind[existing] === NodeKind.DIR) {
        listing.places.get(existing)?.push(dirPlace);
        continue;
      }
      const node =
        child.id === 0 ? tree.newCreatedDir() : nodeFromShadow(tree, shadow.read(child.id));
      // Replaced in the archive: what earlier sources had there goes first.
      if (child.mode === ShadowMode.REPLACE && existing)
        tree.place(FsTree.ROOT, child.name, tree.newNode(NodeKind.FIFO, 0, 0, 0));
      const placed = tree.place(FsTree.ROOT, child.name, node);
      if (placed === node) listing.places.set(node, [dirPlace]);
      else listing.places.get(placed)?.push(dirPlace);
      continue;
    }
    const record = shadow.read(child.id);
    const key = record.names > 1 ? `${place.source}:${child.id}` : "";
    const seen = key ? linked.get(key) : undefined;
    const node = seen ?? nodeFromShadow(tree, record);
    tree.place(FsTree.ROOT, child.name, node);
    if (seen !== undefined) continue;
    if (key) {
      linked.set(key, node);
      listing.linkKeys.set(node, key);
    }
    if (record.kind === NodeKind.FILE) {
      tree.setContent(node, record.size, origin, tree.lastEntry, record.offset);
      tree.setMaybeSparse(node);
      listing.maybeSparse.set(node, `${shadow.spool.path}\0${record.offset}\0${record.size}`);
    }
  }
}

/**
 * The names of the directory at `places`, merged (each once), in a tree of
 * their own: enough to size the directory. Kinds are not looked up.
 */
export function listNames(places: readonly DirPlace[]): FsTree {
  const tree = new FsTree();
  for (const place of places) {
    if (place.shadow) {
      for (const name of place.shadow.names(place.path as Buffer))
        tree.place(FsTree.ROOT, name, tree.newNode(NodeKind.FILE, 0, 0, 0));
      continue;
    }
    for (const name of readNames(place.path)) {
      const node = tree.newNode(NodeKind.FILE, 0, 0, 0);
      if (typeof name === "string") tree.placeText(FsTree.ROOT, name, node);
      else tree.place(FsTree.ROOT, name, node);
    }
  }
  return tree;
}
