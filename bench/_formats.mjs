// The formats group: virtual disk images written by bigfile (bigfile build
// --format, vdisk convert) against qemu-img, on the same inputs in the same
// run. Time ratio target <= 1.0; output size within 1% of qemu-img's.
import { execFileSync, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { q } from "./_measure.mjs";

const SEED_DISK = 4141875200;

/** What each of our formats is called by qemu-img, with the options for the same kind of image. */
const QEMU = {
  qcow2: { name: "qcow2", options: [] },
  "qcow2 -c": { name: "qcow2", options: ["-c"] },
  vhd: { name: "vpc", options: ["-o", "subformat=dynamic"] },
  "vhd-fixed": { name: "vpc", options: ["-o", "subformat=fixed"] },
  vmdk: { name: "vmdk", options: ["-o", "subformat=monolithicSparse"] },
  "vmdk-stream": { name: "vmdk", options: ["-o", "subformat=streamOptimized"] },
};

/** What to know when reading a row. */
const NOTES = {
  "qcow2 -c": [
    "Both write raw deflate with a 4 KiB window at zlib's default level and memLevel 9, as QEMU does, with the system's zlib (vdisk through its native addon, which opens libz.so.1: Node's bundled zlib is Chromium's fork, whose streams come out about 2% longer), and pack the streams into clusters the same way; vdisk compresses several clusters at once on libuv's threads.",
  ],
};

/**
 * A sparse raw disk of `size` bytes with `data` bytes of incompressible data
 * in extents of 1 to 64 MiB scattered over it; one 64 KiB cluster in eight of
 * each extent is written as zeros (allocated, yet nothing to store): the
 * multi-GB image with scattered data where the copying, not the start-up,
 * is what is measured.
 */
function scatteredDisk(path, size, data) {
  const fd = openSync(path, "w");
  const buffer = new Uint8Array(1 << 20);
  let x = 12345;
  const next = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x;
  };
  try {
    const slots = size / (64 << 20);
    let written = 0;
    for (let slot = 0; written < data && slot < slots; slot += 1 + (next() % 3)) {
      const mib = Math.min(1 + (next() % 64), (data - written) / (1 << 20));
      for (let m = 0; m < mib; m++) {
        randomFillSync(buffer);
        for (let c = 0; c < 16; c++)
          if ((m * 16 + c) % 8 === 3) buffer.fill(0, c << 16, (c + 1) << 16);
        writeSync(fd, buffer, 0, buffer.length, slot * (64 << 20) + m * (1 << 20));
      }
      written += mib * (1 << 20);
    }
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** The name of a (d) comparison. */
function bigName(key) {
  return `(d) multi-GB scattered data, raw to ${key}: vdisk convert vs qemu-img convert`;
}

/** The vdisk convert flags for one of the keys of QEMU. */
function vdiskFlags(key) {
  return key === "qcow2 -c" ? ["--to", "qcow2", "-c"] : ["--to", key];
}

/**
 * Adds output sizes to a comparison's result: each row's file length (of its
 * last good run) and ours / theirs, with the 1% target.
 */
function addSizes(result, sizes, pairs) {
  for (const row of result.rows) row.fileBytes = sizes[row.label] ?? Number.NaN;
  result.sizeRatios = pairs.map(([a, b]) => {
    const ratio = (sizes[a] ?? Number.NaN) / (sizes[b] ?? Number.NaN);
    return { a, b, ratio, met: Math.abs(ratio - 1) <= 0.01 };
  });
  for (const s of result.sizeRatios) {
    result.notes.push(
      `Output size ${s.a} / ${s.b}: ${Number.isFinite(s.ratio) ? s.ratio.toFixed(4) : "–"} (${sizes[s.a]} / ${sizes[s.b]} bytes); target within 1%: ${s.met ? "**met**" : "**not met**"}.`,
    );
  }
  return result;
}

/**
 * A row whose output file's length is recorded by the command line itself,
 * beside the output (runOnce removes the output after each run).
 */
function sized(label, role, script, output) {
  const record = `${output}.bytes`;
  return {
    label,
    role,
    show: script,
    cmd: {
      stages: [["bash", "-c", `${script} && stat -c %s ${q(output)} > ${q(record)}`]],
      output,
      // Dirty pages of the rows before (GBs of them in (d)) are written back
      // now, not during the next timed run.
      before: () => {
        rmSync(record, { force: true });
        execFileSync("sync");
      },
    },
    record,
  };
}

/** The length a row's last run recorded; NaN if it failed. */
function recordedSize(row) {
  return existsSync(row.record) ? Number(readFileSync(row.record, "utf8").trim()) : Number.NaN;
}

export async function formatsSuite(ctx) {
  if (spawnSync("sh", ["-c", "command -v qemu-img"]).status !== 0) {
    throw new Error("qemu-img is missing: apt-get install -y qemu-utils");
  }
  const qemuVersion = spawnSync("qemu-img", ["--version"], { encoding: "utf8" }).stdout.split(
    "\n",
  )[0];
  ctx.versions.qemuImg = qemuVersion;
  const out = (name) => join(ctx.scratch, name);
  const bigfile = (format, output) =>
    [
      "node",
      ctx.bin.bigfile,
      "build",
      "-q",
      "-o",
      output,
      ...(format ? ["--format", format] : []),
      "--size",
      SEED_DISK,
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
    ]
      .map(q)
      .join(" ");
  const results = [];
  const run = async (comparison, rows, pairs) => {
    const r = await ctx.compare({ ...comparison, rows, ratios: pairs });
    if (r.skipped) return; // not matched by --match
    const sizes = Object.fromEntries(rows.map((row) => [row.label, recordedSize(row)]));
    results.push(addSizes(r, sizes, pairs));
  };
  /** One comparison: `vdisk convert` and `qemu-img convert` of `input` to the format `key`. */
  const convert = async (key, input, prefix, name, described) => {
    const qemu = QEMU[key];
    const ours = `vdisk convert ${vdiskFlags(key).join(" ")}`;
    const theirs = `qemu-img convert -O ${qemu.name}${qemu.options.length ? ` ${qemu.options.join(" ")}` : ""}`;
    const mine = out(`${prefix}-ours`);
    const other = out(`${prefix}-theirs`);
    const vdisk = ["node", ctx.bin.vdisk, "convert", ...vdiskFlags(key), input, "-o", mine];
    const qemuImg = ["qemu-img", "convert", "-f", "raw", "-O", qemu.name, ...qemu.options];
    await run(
      {
        group: "formats",
        name,
        input: described,
        baseline: theirs,
        target: { max: 1.0 },
        notes: NOTES[key] ?? [],
      },
      [
        sized(ours, "ours", vdisk.map(q).join(" "), mine),
        sized(theirs, "theirs", [...qemuImg, input, other].map(q).join(" "), other),
      ],
      [[ours, theirs]],
    );
  };

  // (a) The whole image in qcow2: bigfile writes it directly; the standard way
  // is the raw image, then qemu-img convert, then the raw image removed.
  {
    const ours = "bigfile build --format qcow2";
    const theirs = "bigfile build (raw) + qemu-img convert -O qcow2";
    const raw = out("build.raw");
    await run(
      {
        group: "formats",
        name: "(a) the seed's image as qcow2: bigfile build --format qcow2 vs build + qemu-img convert",
        input: `the Debian minbase root + kernel + initrd, disk ${SEED_DISK} bytes (the seed's), partition at sector 63`,
        baseline: theirs,
        target: { max: 1.0 },
        notes: [
          "Both rows run the same bigfile build; the second writes the raw image (sparse) and converts it with qemu-img, then removes the raw file, as an image pipeline without bigfile's --format would.",
        ],
      },
      [
        sized(ours, "ours", bigfile("qcow2", out("a-ours.qcow2")), out("a-ours.qcow2")),
        sized(
          theirs,
          "theirs",
          `${bigfile(undefined, raw)} && qemu-img convert -f raw -O qcow2 ${q(raw)} ${q(out("a-theirs.qcow2"))} && rm -f ${q(raw)}`,
          out("a-theirs.qcow2"),
        ),
      ],
      [[ours, theirs]],
    );
  }

  // (b), (c) One raw image (from bigfile build, sparse) converted by both tools.
  const raw = join(ctx.inputs, "formats-seed.raw");
  if (!existsSync(raw)) {
    ctx.say("  making formats-seed.raw ...");
    execFileSync("bash", ["-c", bigfile(undefined, raw)]);
  }
  const rawInfo = statSync(raw);
  const keys = ctx.quick
    ? ["qcow2", "vhd", "vmdk-stream"]
    : ["qcow2", "qcow2 -c", "vhd", "vhd-fixed", "vmdk", "vmdk-stream"];
  for (const [i, key] of keys.entries()) {
    const letter = key === "qcow2" ? "b" : "c";
    await convert(
      key,
      raw,
      `conv-${i}`,
      `(${letter}) raw to ${key}: vdisk convert vs qemu-img convert`,
      `the seed's raw image from bigfile build (${SEED_DISK} bytes, ${((rawInfo.blocks * 512) / 2 ** 20).toFixed(0)} MiB allocated, sparse)`,
    );
  }
  // (d) A multi-GB disk with scattered data (and allocated zeros): the data
  // path itself, start-up a small part of it. Uncompressed formats only:
  // compressing 2 GiB of random data measures zlib, not the tools.
  const big = join(ctx.inputs, "formats-scattered.raw");
  const bigSize = ctx.quick ? 2 * 2 ** 30 : 8 * 2 ** 30;
  const bigData = ctx.quick ? 256 << 20 : 2 * 2 ** 30;
  const bigKeys = (ctx.quick ? ["qcow2"] : ["qcow2", "vhd", "vhd-fixed", "vmdk"]).filter((key) =>
    ctx.wants(bigName(key)),
  );
  if (bigKeys.length === 0) return results;
  if (!existsSync(big)) {
    ctx.say("  making formats-scattered.raw ...");
    scatteredDisk(big, bigSize, bigData);
  }
  const bigInfo = statSync(big);
  for (const [i, key] of bigKeys.entries()) {
    await convert(
      key,
      big,
      `big-${i}`,
      bigName(key),
      `a sparse raw disk of ${bigSize / 2 ** 30} GiB with ${((bigInfo.blocks * 512) / 2 ** 20).toFixed(0)} MiB allocated: random data in 1-64 MiB extents, one 64 KiB cluster in eight written as zeros`,
    );
  }
  return results;
}
