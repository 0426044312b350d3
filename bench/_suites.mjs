// The comparisons. Each function takes the run's context and returns a list of
// comparison results (see _measure.mjs). Inputs are made here, outside timing.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { duBytes, q } from "./_measure.mjs";
import {
  bigFilesTree,
  flatTree,
  oneBigFile,
  scalingTree,
  smallFilesTree,
  stagedRoot,
  warm,
} from "./_trees.mjs";

/** The seed: a 4141875200-byte disk, 503 cylinders, the partition at sector 63, 4040316 KiB. */
export const SEED = { disk: 4141875200, offset: 32256, kib: 4040316, sectors: 8080632 };

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Sizes and rounds of a full run and of a --quick one. */
export function plan(quick) {
  return quick
    ? {
        rounds: 2,
        warmup: 0,
        timeout: 300,
        smallFiles: 5000,
        flatEntries: 5000,
        big: { sparse: 2, sparseBytes: 512 * MiB, denseBytes: 64 * MiB },
        bigKiB: 2 * 2 ** 20,
        filterBytes: 256 * MiB,
        catBytes: 64 * MiB,
        scaling: [1000, 10000],
      }
    : {
        rounds: 3,
        warmup: 1,
        timeout: 1800,
        smallFiles: 100000,
        flatEntries: 120000,
        big: { sparse: 3, sparseBytes: 4 * GiB, denseBytes: 2 * GiB },
        bigKiB: 8 * 2 ** 20,
        filterBytes: 4 * GiB,
        catBytes: 512 * MiB,
        scaling: [1000, 10000, 100000, 1000000],
      };
}

/** Makes an input once per run (kept in ctx.inputs until the run ends). */
function input(ctx, name, make) {
  const path = join(ctx.inputs, name);
  if (!existsSync(path)) {
    const t0 = Date.now();
    ctx.say(`  making ${name} ...`);
    make(path);
    ctx.say(`  made ${name} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return path;
}

function node(bin, ...args) {
  return ["node", bin, ...args];
}

/** ext3fs mkfs vs mke2fs -d vs genext2fs on one tree, at one filesystem size. */
async function populate(
  ctx,
  {
    name,
    tree,
    kib,
    inodes,
    notes,
    target,
    rounds,
    warmup,
    genext2fs = true,
    keepMke2fs,
    type = "ext3",
  },
) {
  // genext2fs is slow (seconds even on small trees): left out of --quick runs.
  // It makes ext2 only: a peer of the ext3 rows, not of ext4's.
  const withGen = ctx.have.genext2fs && genext2fs && !ctx.quick && type === "ext3";
  const ours = `ext3fs mkfs -t ${type}`;
  const theirs = `mke2fs -t ${type} -d`;
  const img = (tool) => join(ctx.scratch, `${tool}.img`);
  warm(tree);
  const rows = [
    {
      label: ours,
      role: "ours",
      cmd: {
        stages: [
          node(ctx.bin.ext3fs, "mkfs", "-q", "-t", type, "--blocks", kib, tree, "-o", img("ours")),
        ],
        output: img("ours"),
      },
    },
    {
      label: theirs,
      role: "theirs",
      cmd: {
        stages: [
          [
            "bash",
            "-c",
            `truncate -s ${kib}K ${q(img("mke2fs"))} && mke2fs -q -F -t ${type} -d ${q(tree)} ${q(img("mke2fs"))}`,
          ],
        ],
        output: img("mke2fs"),
        keepAs: keepMke2fs,
      },
    },
  ];
  if (withGen) {
    rows.push({
      label: "genext2fs (ext2, no journal)",
      role: "other",
      cmd: {
        stages: [["genext2fs", "-z", "-d", tree, "-b", kib, "-N", inodes, img("genext2fs")]],
        output: img("genext2fs"),
      },
    });
  }
  return await ctx.compare(
    {
      group: "populate",
      name,
      input: `${tree} (${(duBytes(tree, true) / MiB).toFixed(0)} MiB apparent), filesystem ${kib} KiB`,
      rows,
      baseline: theirs,
      ratios: [[ours, theirs], ...(withGen ? [[ours, "genext2fs (ext2, no journal)"]] : [])],
      notes,
      target,
    },
    { rounds, warmup },
  );
}

export async function populateSuite(ctx) {
  const p = ctx.plan;
  // Trees are made when a comparison that uses them runs (--match may skip it).
  const small = () => input(ctx, `small-${p.smallFiles}`, (d) => smallFilesTree(d, p.smallFiles));
  const flat = () => input(ctx, `flat-${p.flatEntries}`, (d) => flatTree(d, p.flatEntries));
  const big = () => input(ctx, "big-files", (d) => bigFilesTree(d, p.big));
  const cases = [
    {
      name: "(a) Debian minbase root",
      tree: () => ctx.fixtures.root,
      kib: SEED.kib,
      inodes: 300000,
      target: { max: 0.7 },
      notes: [
        "The seed's filesystem size (4040316 KiB); every tool picks its defaults for that size.",
      ],
    },
    {
      name: `(b) ${p.smallFiles.toLocaleString("en")} small files in a three-level tree`,
      tree: small,
      kib: SEED.kib,
      inodes: 300000,
      target: { max: 0.6 },
    },
    {
      name: `(c) one flat directory of ${p.flatEntries.toLocaleString("en")} entries`,
      tree: flat,
      kib: SEED.kib,
      inodes: 300000,
      target: { max: 0.05 },
      // mke2fs -d goes quadratic here (15 minutes a run at 120k on 2 busy cores): one round.
      rounds: ctx.quick ? undefined : 1,
      warmup: 0,
      genext2fs: p.flatEntries <= 20000,
      // The reading benchmark lists this directory in mke2fs's ext3 image: keep it (minutes to make).
      keepMke2fs: join(ctx.inputs, "flat.img"),
      notes: [
        ...(ctx.quick ? [] : ["One round, no warm-up: mke2fs -d takes many minutes per run here."]),
        ...(p.flatEntries > 20000
          ? [
              "genext2fs is left out: it is quadratic in a directory's entries too (15.9 s for 5,000 entries in a --quick run under load), hours at this size.",
            ]
          : []),
      ],
    },
    {
      name: `(d) ${p.big.sparse} sparse files of ${fmtBytes(p.big.sparseBytes)} and one dense file of ${fmtBytes(p.big.denseBytes)}`,
      tree: big,
      kib: p.bigKiB,
      inodes: 65536,
      notes: [
        `Sparse files hold 1 MiB of data every 512 MiB; the dense file is pseudo-random. Filesystem ${fmtBytes(p.bigKiB * 1024)}.`,
      ],
    },
  ];
  const out = [];
  const run = async (c) => {
    if (ctx.wants(c.name)) out.push(await populate(ctx, { ...c, tree: c.tree() }));
  };
  for (const c of cases) await run(c);
  // The same trees and targets as ext4 (mke2fs.conf's ext4 features on both sides).
  for (const c of cases) {
    const { keepMke2fs: _kept, ...rest } = c;
    await run({ ...rest, name: `${c.name}, ext4`, type: "ext4" });
  }
  if (ctx.wants(TAR_CASE)) out.push(await tarPopulate(ctx));
  return out;
}

const TAR_CASE = "(e) the Debian root as a tar archive";

/** (e) The Debian root as a tar: ext3fs reads it; mke2fs 1.47.0 cannot (1.47.1+ can). */
async function tarPopulate(ctx) {
  const tar = input(ctx, "debian-root.tar", (f) =>
    execFileSync("tar", ["-C", ctx.fixtures.root, "-cf", f, "."]),
  );
  warm(tar);
  const img = (tool) => join(ctx.scratch, `${tool}.img`);
  const x = join(ctx.scratch, "untarred");
  const rows = [
    {
      label: "ext3fs mkfs (tar file)",
      role: "ours",
      cmd: {
        stages: [node(ctx.bin.ext3fs, "mkfs", "-q", "--blocks", SEED.kib, tar, "-o", img("ours"))],
        output: img("ours"),
      },
    },
    {
      label: "ext3fs mkfs - (tar on a pipe)",
      role: "ours",
      cmd: {
        stages: [
          ["cat", tar],
          node(ctx.bin.ext3fs, "mkfs", "-q", "--blocks", SEED.kib, "-", "-o", img("pipe")),
        ],
        output: img("pipe"),
      },
    },
    {
      label: "tar -x, mke2fs -d, rm -r",
      role: "theirs",
      cmd: {
        stages: [
          [
            "bash",
            "-c",
            `mkdir ${q(x)} && tar -C ${q(x)} -xf ${q(tar)} && truncate -s ${SEED.kib}K ${q(img("mke2fs"))} && mke2fs -q -F -t ext3 -d ${q(x)} ${q(img("mke2fs"))} && rm -rf ${q(x)}`,
          ],
        ],
        output: img("mke2fs"),
        before: () => rmSync(x, { recursive: true, force: true }),
      },
    },
  ];
  const notes = [];
  if (ctx.versions.mke2fsTar) {
    rows.push({
      label: "mke2fs -d root.tar",
      role: "other",
      cmd: {
        stages: [
          [
            "bash",
            "-c",
            `truncate -s ${SEED.kib}K ${q(img("mke2fs-tar"))} && mke2fs -q -F -t ext3 -d ${q(tar)} ${q(img("mke2fs-tar"))}`,
          ],
        ],
        output: img("mke2fs-tar"),
      },
    });
  } else {
    notes.push(
      `The installed mke2fs is ${ctx.versions.mke2fs}: \`mke2fs -d\` reads tar archives only from 1.47.1 (libarchive), so the standard way here is to extract the tar first (timed, with the clean-up). genext2fs ${ctx.versions.genext2fs} has no tar input either (-a came in 1.5.0).`,
    );
  }
  return await ctx.compare({
    group: "populate",
    name: TAR_CASE,
    input: `${tar} (${(duBytes(tar, true) / MiB).toFixed(0)} MiB), filesystem ${SEED.kib} KiB`,
    rows,
    baseline: "tar -x, mke2fs -d, rm -r",
    notes,
  });
}

/** Whole image: bigfile build vs the standard tools, and vs the filter pipeline. */
export async function imageSuite(ctx) {
  const staged = input(ctx, "staged-root", (d) =>
    stagedRoot(d, { ...ctx.fixtures, grubDir: ctx.grubDir }),
  );
  warm(ctx.fixtures.root);
  warm(staged);
  const img = (tool) => join(ctx.scratch, `${tool}.img`);
  const core = join(ctx.scratch, "core.img");
  const mnt = join(ctx.scratch, "grub-setup");
  const bigfile = {
    label: "bigfile build",
    role: "ours",
    cmd: {
      stages: [
        node(
          ctx.bin.bigfile,
          "build",
          "-q",
          "-o",
          img("bigfile"),
          "--size",
          SEED.disk,
          "--align",
          "cylinder",
          "--rootfs",
          ctx.fixtures.root,
          "--kernel",
          ctx.fixtures.kernel,
          "--initrd",
          ctx.fixtures.initrd,
          "--seed",
          "bench",
        ),
      ],
      output: img("bigfile"),
    },
  };
  const std = img("standard");
  // grub-bios-setup on an image file needs its root-device guess to find the
  // image: a tmpfs whose source is the image path, in a private mount namespace
  // (e2e-notes.md; test/harness/grub_bios_setup.ts). No loop device.
  const setup = [
    `mkdir -p ${q(mnt)}`,
    `unshare -m --propagation private sh -c 'mount -t tmpfs "$1" "$2" && cp "$3/boot.img" "$4" "$2/" && printf "(hd0) %s\\n" "$1" > "$2/device.map" && "$3/grub-bios-setup" -d "$2" -m "$2/device.map" "$1"' sh ${q(std)} ${q(mnt)} ${q(ctx.grubDir)} ${q(core)}`,
  ];
  const standardScript = [
    `truncate -s ${SEED.disk} ${q(std)}`,
    `printf 'start=63, size=${SEED.sectors}, type=83, bootable\\n' | sfdisk -q --label dos ${q(std)} > /dev/null`,
    `mke2fs -q -F -t ext3 -E offset=${SEED.offset} -d ${q(staged)} ${q(std)} ${SEED.kib}`,
    `grub-mkimage -O i386-pc -d ${q(ctx.grubDir)} -p '(hd0,msdos1)/boot/grub' -o ${q(core)} biosdisk part_msdos ext2`,
    ...setup,
  ].join(" && ");
  const standard = {
    label: "truncate + sfdisk + mke2fs -d -E offset + grub-mkimage + grub-bios-setup",
    role: "theirs",
    show: standardScript,
    cmd: { stages: [["bash", "-c", standardScript]], output: std },
  };
  const pipe = img("pipe");
  const pipeline = {
    label: "ext3fs mkfs | mbr wrap | grub-mbr install",
    role: "pipe",
    cmd: {
      stages: [
        node(ctx.bin.ext3fs, "mkfs", "-q", "--blocks", SEED.kib, "--seed", "bench", staged),
        node(
          ctx.bin.mbr,
          "wrap",
          "--align",
          "cylinder",
          "--disk-size",
          SEED.disk,
          "--bootable",
          "--label-id",
          "0x1",
        ),
        node(ctx.bin.grubMbr, "install"),
      ],
      stdout: pipe,
      output: pipe,
    },
  };
  const notes = [
    "The standard pipeline reads a copy of the root with the kernel, initrd, grub.cfg and GRUB's i386-pc modules already in /boot (made once, not timed); bigfile build reads the root itself and takes the kernel and initrd as flags.",
    "grub-bios-setup runs on the image file without a loop device: in a private mount namespace (unshare -m) a tmpfs whose source is the image path is mounted on its -d directory, so its root-device guess finds the image (needs root or a user namespace).",
  ];
  if (!ctx.have.grubBiosSetup) notes.push("grub-bios-setup not found: install grub-pc-bin.");
  return [
    await ctx.compare({
      group: "image",
      name: "whole image: bigfile build vs the standard tools",
      input: `the Debian minbase root + kernel + initrd, disk ${SEED.disk} bytes (the seed's), partition at sector 63`,
      rows: [bigfile, standard],
      baseline: standard.label,
      notes,
      target: { max: 0.8 },
    }),
    await ctx.compare({
      group: "image",
      name: "in-process vs the filter pipeline",
      input: `as above; the pipeline reads the staged root`,
      rows: [bigfile, pipeline],
      baseline: pipeline.label,
      ratios: [[bigfile.label, pipeline.label]],
      notes: [
        "The three filters run as three Node processes joined by pipes; the last writes the image file.",
      ],
      target: { max: 1.0 },
    }),
  ];
}

/** Pass-through filters vs cat, pipe in and pipe out, on a disk image of ctx.plan.filterBytes. */
export async function filterSuite(ctx) {
  const bytes = ctx.plan.filterBytes;
  const part = input(ctx, `part-${bytes}.img`, (f) =>
    execFileSync("node", [
      ctx.bin.ext3fs,
      "mkfs",
      "-q",
      "--size",
      String(bytes),
      ctx.fixtures.root,
      "-o",
      f,
    ]),
  );
  const disk = input(ctx, `disk-${bytes}.img`, (f) =>
    execFileSync("node", [
      ctx.bin.mbr,
      "wrap",
      "--align",
      "mib",
      "--label-id",
      "0x1",
      part,
      "-o",
      f,
    ]),
  );
  const through = (label, role, argv, src = disk) => ({
    label,
    role,
    cmd: { stages: [["cat", src], argv, ["cat"]], stdout: "/dev/null" },
  });
  const rows = [
    through("cat", "theirs", ["cat"]),
    through("blockdev copy", "ours", node(ctx.bin.blockdev, "copy")),
    through(
      "mbr wrap",
      "ours",
      node(ctx.bin.mbr, "wrap", "--partition-size", bytes, "--label-id", "0x1"),
      part,
    ),
    through("grub-mbr install", "ours", node(ctx.bin.grubMbr, "install")),
  ];
  const sparseRows = [
    {
      label: "cp --sparse=always",
      role: "theirs",
      cmd: {
        stages: [["cp", "--sparse=always", disk, join(ctx.scratch, "cp.img")]],
        output: join(ctx.scratch, "cp.img"),
      },
    },
    {
      label: "blockdev copy --sparse",
      role: "ours",
      cmd: {
        stages: [node(ctx.bin.blockdev, "copy", "--sparse", disk, join(ctx.scratch, "copy.img"))],
        output: join(ctx.scratch, "copy.img"),
      },
    },
  ];
  return [
    await ctx.compare({
      group: "filters",
      name: `pass-through filters vs cat, ${fmtBytes(bytes)} through pipes`,
      input: `cat IMAGE | FILTER | cat > /dev/null; IMAGE: the Debian root in ext3 (mbr wrap reads the partition, the others the disk of ${fmtBytes(bytes + MiB)})`,
      rows,
      baseline: "cat",
      notes: [
        "The ratio is time / cat's time; throughput relative to cat is its inverse (target >= 0.9 of cat's throughput, i.e. time ratio <= 1.11).",
      ],
      target: { max: 1 / 0.9 },
    }),
    await ctx.compare({
      group: "filters",
      name: `file to sparse file, ${fmtBytes(bytes + MiB)}`,
      input: "the disk image above, mostly holes",
      rows: sparseRows,
      baseline: "cp --sparse=always",
    }),
  ];
}

/** Reading: ext3fs cat / extract / ls vs debugfs. */
export async function readSuite(ctx) {
  const mk = (tree, name, extra = []) =>
    input(ctx, name, (f) => {
      execFileSync("mke2fs", ["-q", "-F", ...extra, "-d", tree, f, `${SEED.kib}K`]);
    });
  const bytes = ctx.plan.catBytes;
  const bigTree = input(ctx, `one-big-${bytes}`, (d) => oneBigFile(d, bytes));
  const out = [];
  const sink = ["cat"];
  for (const type of ["ext3", "ext4"]) {
    const img = mk(bigTree, `big-${type}.img`, ["-t", type, "-b", "4096"]);
    warm(img);
    out.push(
      await ctx.compare({
        group: "read",
        name: `cat one ${fmtBytes(bytes)} file (${type === "ext3" ? "ext3, block maps" : "ext4, extents"})`,
        input: `a ${type} image made by mke2fs -d; output through a pipe`,
        rows: [
          {
            label: "ext3fs cat",
            role: "ours",
            cmd: {
              stages: [node(ctx.bin.ext3fs, "cat", img, "/dense.bin"), sink],
              stdout: "/dev/null",
            },
          },
          {
            label: "debugfs -R cat",
            role: "theirs",
            cmd: { stages: [["debugfs", "-R", "cat /dense.bin", img], sink], stdout: "/dev/null" },
          },
        ],
        baseline: "debugfs -R cat",
      }),
    );
  }
  const rootImg = mk(ctx.fixtures.root, "debian-root.img", ["-t", "ext3"]);
  warm(rootImg);
  const dir = (n) => join(ctx.scratch, n);
  out.push(
    await ctx.compare({
      group: "read",
      name: "extract the Debian root",
      input: "the Debian minbase root in ext3 (mke2fs -d)",
      rows: [
        {
          label: "ext3fs extract (to a directory)",
          role: "ours",
          cmd: {
            stages: [node(ctx.bin.ext3fs, "extract", rootImg, dir("x-ours"))],
            output: dir("x-ours"),
          },
        },
        {
          label: "ext3fs extract --tar",
          role: "ours",
          cmd: {
            stages: [node(ctx.bin.ext3fs, "extract", "--tar", rootImg), sink],
            stdout: "/dev/null",
          },
        },
        {
          label: "debugfs -R rdump",
          role: "theirs",
          cmd: {
            stages: [["debugfs", "-R", `rdump / ${dir("x-debugfs")}`, rootImg]],
            output: dir("x-debugfs"),
            before: () => mkdirSync(dir("x-debugfs")),
          },
        },
      ],
      baseline: "debugfs -R rdump",
      notes: [
        "--tar writes the archive into a pipe (nothing on disk); the other two write a directory tree.",
      ],
    }),
  );
  const flat = input(ctx, `flat-${ctx.plan.flatEntries}`, (d) => flatTree(d, ctx.plan.flatEntries));
  const flatImg = mk(flat, "flat.img", ["-t", "ext3"]);
  warm(flatImg);
  out.push(
    await ctx.compare({
      group: "read",
      name: `list a directory of ${ctx.plan.flatEntries.toLocaleString("en")} entries`,
      input: "the flat directory of populate (c) in ext3 (mke2fs -d, hashed directory)",
      rows: [
        {
          label: "ext3fs ls -l",
          role: "ours",
          cmd: {
            stages: [node(ctx.bin.ext3fs, "ls", "-l", flatImg, "/flat"), sink],
            stdout: "/dev/null",
          },
        },
        {
          label: "debugfs -R 'ls -l'",
          role: "theirs",
          cmd: { stages: [["debugfs", "-R", "ls -l /flat", flatImg], sink], stdout: "/dev/null" },
        },
      ],
      baseline: "debugfs -R 'ls -l'",
      notes: [
        "`ext3fs ls` has no -R (its --help lists -l, -a, --json, -p): the listing compared is one large directory, which is where a reader's cost shows; debugfs has no recursive ls either.",
      ],
    }),
  );
  return out;
}

/** Scaling: ext3fs mkfs and mke2fs -d on 1k .. 1M files. */
export async function scalingSuite(ctx) {
  const out = [];
  for (const files of ctx.plan.scaling) {
    const tree = input(ctx, `scaling-${files}`, (d) => scalingTree(d, files));
    warm(tree);
    const inodes = Math.ceil(files * 1.1) + 2000;
    // 1 KiB blocks: each file (< 1 KiB) takes one; inode tables, directories, journal on top.
    const kib = Math.ceil(files * 1.6) + 262144;
    const img = (t) => join(ctx.scratch, `${t}.img`);
    const args = ["-b", "1024", "-N", String(inodes)];
    const big = files >= 1000000;
    out.push(
      await ctx.compare(
        {
          group: "scaling",
          name: `${files.toLocaleString("en")} files`,
          files,
          input: `${files} files of 0-1023 bytes, 1000 to a directory; ext3, 1 KiB blocks, ${inodes} inodes, ${kib} KiB`,
          rows: [
            {
              label: "ext3fs mkfs",
              role: "ours",
              cmd: {
                stages: [
                  node(
                    ctx.bin.ext3fs,
                    "mkfs",
                    "-q",
                    ...args,
                    "--blocks",
                    kib,
                    tree,
                    "-o",
                    img("ours"),
                  ),
                ],
                output: img("ours"),
              },
            },
            {
              label: "mke2fs -d",
              role: "theirs",
              cmd: {
                stages: [
                  [
                    "bash",
                    "-c",
                    `truncate -s ${kib}K ${q(img("mke2fs"))} && mke2fs -q -F -t ext3 ${args.join(" ")} -d ${q(tree)} ${q(img("mke2fs"))}`,
                  ],
                ],
                output: img("mke2fs"),
              },
            },
          ],
          baseline: "mke2fs -d",
          notes: big ? ["2 rounds, no warm-up at this size."] : [],
        },
        big ? { rounds: 2, warmup: 0 } : {},
      ),
    );
    out.at(-1).files = files;
    if (files >= 100000) rmSync(tree, { recursive: true, force: true });
  }
  return out;
}

/** k in time = c * files^k, least squares on logs. */
export function fitExponent(points) {
  const p = points.filter(([x, y]) => x > 0 && y > 0);
  if (p.length < 2) return Number.NaN;
  const xs = p.map(([x]) => Math.log(x));
  const ys = p.map(([, y]) => Math.log(y));
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

export function fmtBytes(n) {
  if (n >= GiB) return `${+(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${+(n / MiB).toFixed(1)} MiB`;
  return `${+(n / 1024).toFixed(1)} KiB`;
}
