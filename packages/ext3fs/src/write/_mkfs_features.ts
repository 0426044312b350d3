/**
 * The feature set mkfs writes: the type's features as the installed
 * mke2fs.conf gives them, then `-O` edits parsed as mke2fs parses them
 * (`feat,^feat`, `none`), then mke2fs's refusals (with its reasons) and ours
 * (features this writer does not implement are refused by name, never
 * ignored).
 */
import { COMPAT, INCOMPAT, RO_COMPAT } from "../format/_feature_names.ts";
import { FeatureCompat, FeatureIncompat, FeatureRoCompat } from "../format/constants.ts";
import { ExtOptionError } from "./errors.ts";

/** The feature flags of a filesystem, word by word. */
export interface FeatureSet {
  compat: number;
  incompat: number;
  roCompat: number;
}

/** The filesystem types mkfs makes. */
export type FsType = "ext2" | "ext3" | "ext4";

/**
 * mke2fs.conf's `base_features` (sparse_super, large_file, filetype,
 * resize_inode, dir_index, ext_attr), as Debian installs it.
 */
const BASE: FeatureSet = {
  compat: FeatureCompat.EXT_ATTR | FeatureCompat.DIR_INDEX | FeatureCompat.RESIZE_INODE,
  incompat: FeatureIncompat.FILETYPE,
  roCompat: FeatureRoCompat.SPARSE_SUPER | FeatureRoCompat.LARGE_FILE,
};

/**
 * mke2fs.conf's ext4 stanza: has_journal, extent, huge_file, flex_bg,
 * metadata_csum, 64bit, dir_nlink, extra_isize.
 */
const EXT4: FeatureSet = {
  compat: FeatureCompat.HAS_JOURNAL,
  incompat: FeatureIncompat.EXTENTS | FeatureIncompat.FLEX_BG | FeatureIncompat.BIT64,
  roCompat:
    FeatureRoCompat.HUGE_FILE |
    FeatureRoCompat.METADATA_CSUM |
    FeatureRoCompat.DIR_NLINK |
    FeatureRoCompat.EXTRA_ISIZE,
};

/**
 * The features mkfs writes by type, before `-O` edits: the resize inode and
 * the journal are dropped when the geometry has no room for them.
 */
export function typeFeatures(type: FsType): FeatureSet {
  const set = { ...BASE };
  if (type !== "ext2") set.compat |= FeatureCompat.HAS_JOURNAL;
  if (type === "ext4") {
    set.incompat |= EXT4.incompat;
    set.roCompat |= EXT4.roCompat;
  }
  return set;
}

/** What this writer implements: any other feature is refused by name. */
const WRITABLE: FeatureSet = {
  compat: BASE.compat | FeatureCompat.HAS_JOURNAL,
  incompat: BASE.incompat | EXT4.incompat,
  roCompat: BASE.roCompat | EXT4.roCompat,
};

type Word = keyof FeatureSet;

/** Each word's names by bit. */
const TABLES = [
  ["compat", COMPAT],
  ["incompat", INCOMPAT],
  ["roCompat", RO_COMPAT],
] as const;

/** Names mke2fs accepts besides dumpe2fs's. */
const ALIASES: Record<string, [Word, number]> = {
  extents: ["incompat", FeatureIncompat.EXTENTS],
  uninit_groups: ["roCompat", FeatureRoCompat.GDT_CSUM],
};

function lookup(name: string): [Word, number] | undefined {
  const alias = ALIASES[name];
  if (alias) return alias;
  for (const [word, table] of TABLES) {
    for (const [bit, known] of Object.entries(table))
      if (known === name) return [word, Number(bit)];
  }
  return undefined;
}

function has(set: FeatureSet, word: Word, bit: number): boolean {
  return (set[word] & bit) !== 0;
}

/** The features' names as mke2fs spells them, `-O` text. */
export function featureText(features: string | readonly string[]): string {
  return typeof features === "string" ? features : features.join(",");
}

/**
 * Applies `-O` edits to `set` as mke2fs does: names separated by commas or
 * spaces, `^name` removes, `none`/`clear` removes all; then checks the
 * result (mke2fs's refusals with its reasons, then what this writer
 * implements). Throws {@linkcode ExtOptionError} (`features`).
 */
export function editFeatures(set: FeatureSet, edits: string | readonly string[]): FeatureSet {
  const out = { ...set };
  const text = featureText(edits);
  const refuse = (got: string, reason: string) =>
    new ExtOptionError("features", "features mke2fs knows", got, undefined, reason);
  for (const raw of text.split(/[\s,]+/)) {
    if (raw === "") continue;
    const lower = raw.toLowerCase();
    if (lower === "none" || lower === "clear") {
      out.compat = out.incompat = out.roCompat = 0;
      continue;
    }
    const off = lower.startsWith("^") || lower.startsWith("-");
    const name = off || lower.startsWith("+") ? lower.slice(1) : lower;
    const found = lookup(name);
    if (!found)
      throw refuse(raw, `Invalid filesystem option set: ${text} (unknown feature ${name})`);
    const [word, bit] = found;
    out[word] = off ? out[word] & ~bit : out[word] | bit;
  }
  checkFeatures(out, text);
  return out;
}

/** mke2fs's refusals, then ours: features this writer does not write. */
export function checkFeatures(set: FeatureSet, text: string): void {
  const refuse = (reason: string) =>
    new ExtOptionError("features", "features mke2fs knows", text, undefined, reason);
  const incompat = (bit: number) => has(set, "incompat", bit);
  // mke2fs 1.47's own refusals, in its words.
  if (incompat(FeatureIncompat.BIT64) && !incompat(FeatureIncompat.EXTENTS))
    throw refuse("Extents MUST be enabled for a 64-bit filesystem.  Pass -O extents to rectify.");
  if (incompat(FeatureIncompat.META_BG) && has(set, "compat", FeatureCompat.RESIZE_INODE))
    throw refuse(
      "The resize_inode and meta_bg features are not compatible. They can not be both enabled simultaneously.",
    );
  if (
    !has(set, "roCompat", FeatureRoCompat.SPARSE_SUPER) &&
    has(set, "compat", FeatureCompat.RESIZE_INODE)
  )
    throw refuse("reserved online resize blocks not supported on non-sparse filesystem");
  // metadata_csum supersedes uninit_bg: mke2fs drops it without a word.
  if (has(set, "roCompat", FeatureRoCompat.METADATA_CSUM))
    set.roCompat &= ~FeatureRoCompat.GDT_CSUM;
  // Ours.
  const missing = namesOf({
    compat: set.compat & ~WRITABLE.compat,
    incompat: set.incompat & ~WRITABLE.incompat,
    roCompat: set.roCompat & ~WRITABLE.roCompat,
  });
  if (missing.length > 0)
    throw refuse(
      `ext3fs mkfs does not write ${missing.join(", ")} (it writes ${namesOf(WRITABLE).join(", ")})`,
    );
  if (!incompat(FeatureIncompat.FILETYPE))
    throw refuse("ext3fs mkfs always writes directory entries with file types: keep filetype");
  if (!has(set, "roCompat", FeatureRoCompat.SPARSE_SUPER))
    throw refuse("ext3fs mkfs writes superblock backups in sparse groups only: keep sparse_super");
}

/** The names of a feature set's bits, compat then incompat then ro_compat. */
export function namesOf(set: FeatureSet): string[] {
  const names: string[] = [];
  for (const [word, table] of TABLES) {
    for (let bit = 1; bit <= set[word] && bit > 0; bit *= 2)
      if (set[word] & bit) names.push(table[bit] ?? `0x${bit.toString(16)}`);
  }
  return names;
}
