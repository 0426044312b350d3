import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCoreImage, coreModules } from "@bigfile/grub-mbr/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cachedCoreImage } from "./_core_image_cache.ts";

const GRUB = "/usr/lib/grub/i386-pc";
const MKIMAGE = "/usr/bin/grub-mkimage";
const have = existsSync(join(GRUB, "kernel.img")) && existsSync(MKIMAGE);
if (!have && !process.env.CI)
  console.warn(
    "SKIPPED core.img cache tests: GRUB missing (apt-get install grub-pc-bin grub-common)",
  );

describe.skipIf(!have && !process.env.CI)("cachedCoreImage", () => {
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), "bigfile-core-cache-"));
  });
  afterAll(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it("gives grub-mkimage's bytes, then the same bytes from the cache", async () => {
    const env = { XDG_CACHE_HOME: cache };
    const prefix = "(hd0,msdos1)/boot/grub";
    const fresh = await buildCoreImage(GRUB, { prefix, modules: coreModules("msdos") });
    const first = await cachedCoreImage(GRUB, prefix, coreModules("msdos"), MKIMAGE, env);
    expect(Buffer.from(first).equals(Buffer.from(fresh))).toBe(true);
    const files = readdirSync(join(cache, "bigfile"));
    expect(files).toHaveLength(1);
    // The second call reads the file: prove it by changing what it holds.
    const path = join(cache, "bigfile", files[0] as string);
    writeFileSync(path, Buffer.concat([readFileSync(path).subarray(0, 512), Buffer.alloc(512, 7)]));
    const second = await cachedCoreImage(GRUB, prefix, coreModules("msdos"), MKIMAGE, env);
    expect(second.length).toBe(1024);
    // Another prefix is another entry.
    await cachedCoreImage(GRUB, "(hd0,msdos2)/boot/grub", coreModules("msdos"), MKIMAGE, env);
    expect(readdirSync(join(cache, "bigfile"))).toHaveLength(2);
  });

  it("builds without a cache when told to, or when the cache cannot be written", async () => {
    const env = { BIGFILE_NO_CACHE: "1", XDG_CACHE_HOME: join(cache, "off") };
    await cachedCoreImage(GRUB, "(hd0,msdos1)/boot/grub", coreModules("msdos"), MKIMAGE, env);
    expect(existsSync(join(cache, "off"))).toBe(false);
    const blocked = join(cache, "file");
    writeFileSync(blocked, "not a directory");
    const core = await cachedCoreImage(
      GRUB,
      "(hd0,msdos1)/boot/grub",
      coreModules("msdos"),
      MKIMAGE,
      {
        XDG_CACHE_HOME: blocked,
      },
    );
    expect(core.length).toBeGreaterThan(512);
  });
});
