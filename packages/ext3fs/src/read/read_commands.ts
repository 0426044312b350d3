import { fstatSync, ftruncateSync, writeSync } from "node:fs";
import { canWriteSparse } from "@bigfile/blockdev/node";
import { checkBinaryOutput, openInput, writeOutput } from "@bigfile/blockdev/stdio";
import { ExitError, jsonText, UsageError } from "@bigfile/cli-kit";
import { type CliIo, integerOption } from "@bigfile/cli-kit/node";
import type { Command } from "commander";
import { infoObject, infoText, isoTime, longLine, modeString, timeText } from "./_format_text.ts";
import { checkFilesystem } from "./check_filesystem.ts";
import { ExtCorruptionError, ExtPathError, ExtUnsupportedError } from "./errors.ts";
import { extractToDirectory } from "./extract_to_directory_file.ts";
import type { FilesystemReader, ReaderStat } from "./filesystem_reader.ts";
import { type OpenedImage, openImageFile, openImageStream } from "./open_image_file.ts";
import { tarStream } from "./tar_stream.ts";

interface CommonOptions {
  partition?: number;
  json?: boolean;
  /** Open inline_data filesystems (check reads what it can of them). */
  allowInlineData?: boolean;
}

function isRegularFd(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** Opens IMAGE (a path, or - for standard input spooled to a temporary file). */
async function openImage(io: CliIo, image: string, opts: CommonOptions): Promise<OpenedImage> {
  const partition = {
    ...(opts.partition === undefined ? {} : { partition: opts.partition }),
    ...(opts.allowInlineData ? { allowInlineData: true } : {}),
  };
  try {
    if (image !== "-") return await openImageFile(image, partition);
    // A regular file on standard input (< image) is opened in place, not copied.
    if (io.stdinFd !== undefined && isRegularFd(io.stdinFd)) {
      return await openImageFile(`/proc/self/fd/${io.stdinFd}`, partition);
    }
    return await openImageStream(openInput(io, "-"), partition);
  } catch (error) {
    throw explain(error, image);
  }
}

/** Turns reader errors into one-line CLI failures that name the image and offset. */
function explain(error: unknown, image: string): unknown {
  if (error instanceof ExtCorruptionError)
    return new ExitError(`${image}: ${error.message} (at byte ${error.offset})`);
  if (error instanceof ExtUnsupportedError) return new ExitError(`${image}: ${error.message}`);
  if (error instanceof ExtPathError) return new ExitError(`${image}: ${error.message}`);
  if (error instanceof RangeError && !(error as NodeJS.ErrnoException).code)
    return new ExitError(`${image}: ${error.message}`);
  return error;
}

function warnJournal(io: CliIo, reader: FilesystemReader): void {
  const journal = reader.journal;
  if (!journal?.needsRecovery) return;
  if (journal.problem) {
    io.stderr.write(
      `ext3fs: warning: the journal needs recovery but ${journal.problem.replace(/^the journal /, "it ")}; what is shown may be stale\n`,
    );
  } else if (journal.replayed) {
    io.stderr.write(
      `ext3fs: note: the filesystem was not cleanly unmounted; replayed ${journal.replayed} journal transaction(s) in memory (the image is unchanged)\n`,
    );
  } else {
    io.stderr.write(
      "ext3fs: note: the filesystem is marked as needing journal recovery, but its journal holds nothing to replay\n",
    );
  }
}

async function withImage<T>(
  io: CliIo,
  image: string,
  opts: CommonOptions,
  work: (fs: FilesystemReader) => Promise<T>,
  warn = true,
): Promise<T> {
  const opened = await openImage(io, image, opts);
  try {
    if (warn) warnJournal(io, opened.reader);
    return await work(opened.reader);
  } catch (error) {
    throw explain(error, image);
  } finally {
    await opened.close();
  }
}

/** An error as one line, without a stack. */
function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}

/** An `ls -l` line for an entry whose inode cannot be read. */
function unknownLongLine(name: string): string {
  return `?????????? ${"?".padStart(3)} ${"?".padStart(5)} ${"?".padStart(5)} ${"?".padStart(10)} ${"?".padEnd(16)} ${name}`;
}

function statObject(path: string, st: ReaderStat, target?: string): Record<string, unknown> {
  return {
    path,
    ino: st.ino,
    type: st.type,
    mode: st.mode,
    permissions: `0${(st.mode & 0o7777).toString(8).padStart(4, "0")}`,
    modeString: modeString(st.type, st.mode),
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    links: st.links,
    blocks512: st.blocks512,
    flags: st.flags,
    generation: st.generation,
    atime: isoTime(st.atime),
    mtime: isoTime(st.mtime),
    ctime: isoTime(st.ctime),
    ...(st.crtime ? { crtime: isoTime(st.crtime) } : {}),
    times: {
      atime: st.atime,
      mtime: st.mtime,
      ctime: st.ctime,
      ...(st.crtime ? { crtime: st.crtime } : {}),
    },
    ...(st.rdev ? { rdev: st.rdev } : {}),
    ...(target !== undefined ? { target } : {}),
  };
}

function addCommon(command: Command): Command {
  return command
    .option(
      "-p, --partition <n>",
      "read partition N of a DOS-partitioned disk image (1-4 primary, 5+ logical)",
      integerOption,
    )
    .option("--json", "print JSON");
}

/** Adds `ext3fs info|ls|cat|stat|extract|check` to the program. */
export function addReadCommands(program: Command, io: CliIo): void {
  program.addHelpText(
    "after",
    `
Reading (IMAGE is a filesystem image, a disk image with --partition N, or - for standard input):
  ext3fs info root.ext3                       superblock summary, like dumpe2fs -h
  ext3fs ls -l big.img /boot --partition 1    list a directory inside a whole disk image
  ext3fs cat big.img /boot/vmlinuz -p 1 > vmlinuz
  ext3fs stat root.ext3 /etc/passwd --json
  ext3fs extract root.ext3 out/               the whole tree (owners when run as root)
  ext3fs extract root.ext3 --path /boot --tar > boot.tar
  ext3fs check root.ext3                      read-only check like e2fsck -fn; exit 1 on errors (not notes)`,
  );

  addCommon(
    program
      .command("info")
      .description("show the superblock and journal summary (like dumpe2fs -h)"),
  )
    .argument("<image>", "filesystem or disk image, or - for stdin")
    .action(async (image: string, opts: CommonOptions) => {
      await withImage(
        io,
        image,
        opts,
        async (fs) => {
          io.stdout.write(opts.json ? jsonText(infoObject(fs)) : infoText(fs));
        },
        false,
      );
    });

  addCommon(program.command("ls").description("list a directory (default /)"))
    .argument("<image>", "filesystem or disk image, or - for stdin")
    .argument("[path]", "directory inside the filesystem", "/")
    .option("-l, --long", "long listing: mode, links, owner, size, time")
    .option("-a, --all", "include . and ..")
    .action(
      async (
        image: string,
        path: string,
        opts: CommonOptions & { long?: boolean; all?: boolean },
      ) => {
        let problems = 0;
        const report = (where: string, error: unknown) => {
          problems++;
          io.stderr.write(`ext3fs: ${where}: ${oneLine(error)}\n`);
        };
        await withImage(io, image, opts, async (fs) => {
          const lst = await fs.lstat(path);
          let rows: { name: string; ino: number }[];
          if (
            lst.type === "directory" ||
            (lst.type === "symlink" && !opts.long && (await fs.stat(path)).type === "directory")
          ) {
            const dirIno = await fs.lookup(path);
            // A damaged block is named on stderr; the entries of the others are listed.
            rows = (
              await fs.dirEntries(dirIno, { onFault: (error) => report(path, error) })
            ).filter((e) => opts.all || (e.name !== "." && e.name !== ".."));
          } else {
            rows = [{ name: path, ino: lst.ino }];
          }
          rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
          if (!opts.long && !opts.json) {
            io.stdout.write(rows.map((r) => `${r.name}\n`).join(""));
            return;
          }
          const items: Record<string, unknown>[] = [];
          const lines: string[] = [];
          for (const row of rows) {
            let st: ReaderStat;
            try {
              st = await fs.statInode(row.ino);
            } catch (error) {
              // What cannot be read is shown as '?', as ls does on a broken disk.
              report(row.name, error);
              if (opts.json)
                items.push({ name: row.name, path: row.name, ino: row.ino, error: oneLine(error) });
              else lines.push(unknownLongLine(row.name));
              continue;
            }
            let target: string | undefined;
            let problem: string | undefined;
            if (st.type === "symlink") {
              try {
                target = await fs.readlinkInode(row.ino);
              } catch (error) {
                report(row.name, error);
                problem = oneLine(error);
                target = "?";
              }
            }
            if (opts.json)
              items.push({
                name: row.name,
                ...statObject(row.name, st, problem === undefined ? target : undefined),
                ...(problem === undefined ? {} : { error: problem }),
              });
            else lines.push(longLine(row.name, st, target));
          }
          io.stdout.write(opts.json ? jsonText(items) : lines.map((l) => `${l}\n`).join(""));
        });
        if (problems > 0)
          throw new ExitError(
            `${problems} entr${problems === 1 ? "y" : "ies"} could not be read (listed above)`,
          );
      },
    );

  addCommon(
    program
      .command("cat")
      .description("write a file's contents to standard output (follows symlinks)"),
  )
    .argument("<image>", "filesystem or disk image, or - for stdin")
    .argument("<path>", "file inside the filesystem")
    .action(async (image: string, path: string, opts: CommonOptions) => {
      await withImage(io, image, opts, async (fs) => {
        const inode = await fs.inode(await fs.lookup(path));
        const st = await fs.statInode(inode);
        if (st.type === "directory") throw new ExtPathError(path, "is-a-directory");
        const chunks = fs.fileChunks(inode);
        if (io.stdoutIsTTY) {
          // Text to a terminal is fine, as with cat; binary is refused.
          const first = await chunks.next();
          if (!first.done && first.value.subarray(0, 8192).includes(0)) checkBinaryOutput(io);
          const all = (async function* () {
            if (!first.done) yield first.value;
            yield* chunks;
          })();
          for await (const chunk of all) io.stdout.write(chunk);
          return;
        }
        if (io.stdoutFd !== undefined && canWriteSparse(io.stdoutFd)) {
          // An empty regular file: write only the stored data, then set the size
          // (a 1 TiB sparse file costs what it stores, not a scan of its zeros).
          await chunks.return(undefined);
          const fd = io.stdoutFd;
          for await (const { offset, bytes } of fs.dataChunks(inode)) {
            let done = 0;
            while (done < bytes.length)
              done += writeSync(fd, bytes, done, bytes.length - done, offset + done);
          }
          ftruncateSync(fd, inode.size);
          return;
        }
        await writeOutput(io, chunks, "-", { sparse: true });
      });
    });

  addCommon(
    program.command("stat").description("show an inode's metadata (symlinks are not followed)"),
  )
    .argument("<image>", "filesystem or disk image, or - for stdin")
    .argument("<path>", "file inside the filesystem")
    .option("-L, --dereference", "follow a final symlink")
    .action(
      async (image: string, path: string, opts: CommonOptions & { dereference?: boolean }) => {
        await withImage(io, image, opts, async (fs) => {
          const st = opts.dereference ? await fs.stat(path) : await fs.lstat(path);
          // Each part that cannot be read is named; the rest is still shown.
          const errors: string[] = [];
          const attempt = async <T>(
            what: string,
            work: () => Promise<T>,
          ): Promise<T | undefined> => {
            try {
              return await work();
            } catch (error) {
              if (!(error instanceof ExtCorruptionError || error instanceof ExtUnsupportedError))
                throw error;
              errors.push(`${what}: ${oneLine(error)}`);
              io.stderr.write(`ext3fs: ${path}: ${what}: ${oneLine(error)}\n`);
              return undefined;
            }
          };
          const target =
            st.type === "symlink"
              ? await attempt("symlink target", () => fs.readlinkInode(st.ino))
              : undefined;
          const xattrs =
            (await attempt("extended attributes", async () =>
              (await fs.xattrs(st.ino)).map((x) => ({ name: x.name, bytes: x.value.length })),
            )) ?? [];
          const runs: { logical: number; physical: number; length: number; uninit: boolean }[] = [];
          if (
            st.type === "file" ||
            st.type === "directory" ||
            (st.type === "symlink" && st.blocks512 > 0)
          ) {
            await attempt("block map", async () => {
              const inode = await fs.inode(st.ino);
              for await (const run of fs.runs(inode)) {
                runs.push(run);
                if (runs.length >= 10_000) break;
              }
            });
          }
          const failed = () => {
            if (errors.length > 0)
              throw new ExitError(
                `${path}: ${errors.length} part(s) could not be read (listed above)`,
              );
          };
          if (opts.json) {
            io.stdout.write(
              jsonText({
                ...statObject(path, st, target),
                xattrs,
                runs,
                ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
              }),
            );
            failed();
            return;
          }
          const lines = [
            `  File: ${path}${target !== undefined ? ` -> ${target}` : ""}`,
            `  Size: ${st.size}\tBlocks: ${st.blocks512}\tType: ${st.type}`,
            ` Inode: ${st.ino}\tLinks: ${st.links}\tMode: (0${(st.mode & 0o7777).toString(8).padStart(4, "0")}/${modeString(st.type, st.mode)})`,
            `   Uid: ${st.uid}\tGid: ${st.gid}\tFlags: 0x${st.flags.toString(16)}\tGeneration: ${st.generation}`,
            ...(st.rdev ? [`Device: ${st.rdev.major},${st.rdev.minor}`] : []),
            `Access: ${timeText(st.atime)}`,
            `Modify: ${timeText(st.mtime)}`,
            `Change: ${timeText(st.ctime)}`,
            ...(st.crtime ? [` Birth: ${timeText(st.crtime)}`] : []),
          ];
          if (xattrs.length > 0)
            lines.push(`Xattrs: ${xattrs.map((x) => `${x.name} (${x.bytes} bytes)`).join(", ")}`);
          if (runs.length > 0) {
            lines.push(
              `Blocks: ${runs
                .slice(0, 50)
                .map(
                  (r) =>
                    `(${r.logical}${r.length > 1 ? `-${r.logical + r.length - 1}` : ""}):${r.physical}${r.length > 1 ? `-${r.physical + r.length - 1}` : ""}${r.uninit ? " [uninit]" : ""}`,
                )
                .join(", ")}${runs.length > 50 ? `, ... (${runs.length - 50} more runs)` : ""}`,
            );
          }
          io.stdout.write(`${lines.join("\n")}\n`);
          failed();
        });
      },
    );

  addCommon(
    program
      .command("extract")
      .description("copy a tree out of the filesystem into DIR, or as a tar archive with --tar"),
  )
    .argument("<image>", "filesystem or disk image, or - for stdin")
    .argument(
      "[target]",
      "directory to extract into (created if missing); with --tar, the archive file (default stdout)",
    )
    .option("--path <path>", "subtree to extract", "/")
    .option("--tar", "write a tar archive (POSIX pax) instead of files")
    .option("--no-owners", "do not set owners even when running as root")
    .action(
      async (
        image: string,
        target: string | undefined,
        opts: CommonOptions & { path: string; tar?: boolean; owners: boolean },
      ) => {
        if (!opts.tar && target === undefined)
          throw new UsageError(
            "extract needs a target directory, or --tar for an archive on stdout",
          );
        if (opts.tar) checkBinaryOutput(io, target);
        let problems = 0;
        const report = (path: string, reason: string) => {
          problems++;
          io.stderr.write(`ext3fs: ${path}: ${reason}\n`);
        };
        const summary = await withImage(io, image, opts, async (fs) => {
          if (opts.tar) {
            await writeOutput(io, tarStream(fs, opts.path, { onSkip: report }), target, {
              sparse: false,
            });
            return undefined;
          }
          return extractToDirectory(fs, target as string, {
            path: opts.path,
            owners: opts.owners,
            onSkip: report,
          });
        });
        if (opts.json && summary) io.stdout.write(jsonText({ ...summary, problems }));
        if (problems > 0)
          throw new ExitError(
            `${problems} entr${problems === 1 ? "y" : "ies"} could not be extracted (listed above)`,
          );
      },
    );

  addCommon(
    program
      .command("check")
      .description(
        "read-only check that agrees with e2fsck -fn; exit 1 on errors (notes, such as a journal to replay, do not count)",
      ),
  )
    .argument("<image>", "filesystem or disk image, or - for stdin")
    .option("--max-findings <n>", "list at most N findings", integerOption, 200)
    .action(async (image: string, opts: CommonOptions & { maxFindings: number }) => {
      const result = await withImage(
        io,
        image,
        { ...opts, allowInlineData: true },
        (fs) => checkFilesystem(fs, { maxFindings: opts.maxFindings }),
        false,
      );
      const errors = result.findings.filter((f) => f.severity === "error").length;
      const notes = result.findings.length - errors;
      if (opts.json) io.stdout.write(jsonText(result));
      else {
        for (const f of result.findings)
          io.stdout.write(
            `${f.severity === "note" ? "note: " : ""}${f.message}${f.offset !== undefined ? ` (byte ${f.offset})` : ""}\n`,
          );
        if (result.omitted) io.stdout.write(`... and ${result.omitted} more findings\n`);
        const verdict = result.clean
          ? `clean${notes > 0 ? ` (${notes} note${notes === 1 ? "" : "s"})` : ""}`
          : `${errors + result.omitted} problem(s) found`;
        io.stdout.write(
          `${image}: ${verdict}, ${result.inodesUsed} inodes, ${result.blocksUsed} blocks in use, ${result.directories} directories\n`,
        );
      }
      if (!result.clean)
        throw new ExitError(`${image}: the check found ${errors + result.omitted} problem(s)`);
    });
}
