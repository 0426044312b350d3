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
import { FsTree, NodeKind } from "./tree.ts";

/** Where a directory is in one source. */
export interface DirPlace {
  /** Index of the source (hard links are links within one source). */
  source: number;
  path: string | Buffer;
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
    const top = lstatSync(place.path, { bigint: true });
    if (!top.isDirectory()) {
      throw new TypeError(
        `Cannot read ${place.path.toString()}: no longer a directory (changed while mkfs ran?)`,
      );
    }
    const origin = tree.addOrigin({ kind: "directory", root: Buffer.from(place.path) });
    tree.placePath([], nodeFromStat(tree, top, Number(top.mode), NodeKind.DIR, own));
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

/**
 * The names of the directory at `places`, merged (each once), in a tree of
 * their own: enough to size the directory. Kinds are not looked up.
 */
export function listNames(places: readonly DirPlace[]): FsTree {
  const tree = new FsTree();
  for (const place of places) {
    for (const name of readNames(place.path)) {
      const node = tree.newNode(NodeKind.FILE, 0, 0, 0);
      if (typeof name === "string") tree.placeText(FsTree.ROOT, name, node);
      else tree.place(FsTree.ROOT, name, node);
    }
  }
  return tree;
}
