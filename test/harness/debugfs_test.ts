// The debugfs oracle hands back a file's exact bytes (a final newline too:
// execa strips one by default, which once made a comparison lie).
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { debugfsCat } from "./debugfs.ts";
import { type TempDir, tempDir } from "./temp_dir.ts";
import { describeWithTools } from "./tools.ts";

describeWithTools(["mke2fs", "debugfs"], "debugfsCat", () => {
  let tmp: TempDir;
  let image: string;
  beforeAll(async () => {
    tmp = await tempDir("debugfs-cat");
    const root = join(tmp.path, "root");
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc", "hostname"), "guest\n");
    await writeFile(join(root, "two-newlines"), "x\n\n");
    image = join(tmp.path, "fs.img");
    await execa("mke2fs", ["-q", "-F", "-t", "ext3", "-d", root, image, "2M"]);
  });
  afterAll(() => tmp.remove());

  it("returns the file's bytes, final newlines included", async () => {
    expect((await debugfsCat(image, "/etc/hostname")).toString()).toBe("guest\n");
    expect((await debugfsCat(image, "/two-newlines")).toString()).toBe("x\n\n");
  });

  it("says when the file is not there", async () => {
    await expect(debugfsCat(image, "/no/such")).rejects.toThrow(/debugfs cannot cat/);
  });
});
