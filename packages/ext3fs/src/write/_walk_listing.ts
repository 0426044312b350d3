/**
 * One directory of the filesystem at a time, merged from the directory
 * sources laid over each other: what the walk writer ({@linkcode
 * ./_walk_writer.ts}) holds instead of the whole tree. The merge follows
 * {@linkcode FsTree.place}: a later object replaces an earlier one of the
 * same name, two directories merge (the later one's metadata wins).
 */
import { lstatSync, readlinkSync } from "node:fs";
import {
  joinPath,
  kindOf,
  nodeFromStat,
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
      const st = lstatSync(childPath, { bigint: true });
      const mode = Number(st.mode);
      const kind = kindOf(mode);
      if (kind === undefined) continue;
      const key =
        kind !== NodeKind.DIR && st.nlink > 1n ? `${place.source}:${st.dev}:${st.ino}` : "";
      const seen = key ? linked.get(key) : undefined;
      const node = seen ?? nodeFromStat(tree, st, mode, kind, own);
      const placed =
        typeof name === "string"
          ? tree.placeText(FsTree.ROOT, name, node)
          : tree.place(FsTree.ROOT, name, node);
      if (seen !== undefined) continue;
      if (key) {
        linked.set(key, node);
        listing.linkKeys.set(node, key);
      }
      if (kind === NodeKind.SYMLINK) {
        tree.setTarget(node, readlinkSync(childPath, { encoding: "buffer" }));
      } else if (kind === NodeKind.FILE) {
        tree.setContent(node, Number(st.size), origin, tree.lastEntry);
        // As the tree walk does: no blocks and 1 MiB or more is all holes;
        // fewer allocated bytes than the size is read for its holes.
        if (st.blocks === 0n && st.size >= 1n << 20n) tree.dataRuns.set(node, []);
        else if (st.blocks * 512n < st.size) {
          tree.setMaybeSparse(node, Number(st.blocks) * 512);
          listing.maybeSparse.set(node, childPath);
        } else listing.files.set(node, childPath);
      } else if (kind === NodeKind.DIR) {
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
