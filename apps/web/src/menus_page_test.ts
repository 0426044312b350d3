// GRUB's menus and prefix on the page, in Debian's Chromium: the built page
// (dist/index.html and main.js, loaded without a server) opens images made by
// `bigfile build`; the menu it shows is checked against pygrub, and the checks
// it lists against `bigfile inspect --json`. Outside CI a missing chromium
// skips with one loud line naming the Debian package; in CI it fails.
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { withOffset } from "../../../test/harness/e2fsck.ts";
import { runPygrub } from "../../../test/harness/pygrub.ts";
import { type TempDir, tempDir } from "../../../test/harness/temp_dir.ts";
import { describeWithTools, findTool } from "../../../test/harness/tools.ts";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const bigfile = fileURLToPath(new URL("../../bigfile/bin/bigfile.js", import.meta.url));

/** The page from dist/, its module inlined (main.js is one bundle with no imports). */
async function openPage(browser: Browser, image: string): Promise<Page> {
  const html = (await readFile(join(dist, "index.html"), "utf8")).replace(
    /<script [^>]*src="main\.js"[^>]*><\/script>/,
    "",
  );
  const page = await browser.newPage();
  await page.setContent(html);
  await page.addScriptTag({ path: join(dist, "main.js"), type: "module" });
  await page.waitForSelector("body[data-state=idle]");
  await page.setInputFiles("#image", image);
  await page.waitForSelector("body[data-state=ready], body[data-state=error]");
  expect((await page.locator("#error").textContent()) ?? "").toBe("");
  return page;
}

/** The `<dd>` after the `<dt>` named `name` in `selector`. */
async function fact(page: Page, selector: string, name: string): Promise<string | undefined> {
  const names = await page.locator(`${selector} dt`).allTextContents();
  const values = await page.locator(`${selector} dd`).allTextContents();
  const i = names.indexOf(name);
  return i < 0 ? undefined : values[i];
}

describeWithTools(
  [
    ["chromium", "chromium"],
    "pygrub",
    ["debugfs", "e2fsprogs"],
    "grub-mkimage",
    "/usr/lib/grub/i386-pc",
  ],
  "apps/web in headless Chromium: GRUB's menus, prefix and checks",
  () => {
    let tmp: TempDir;
    let browser: Browser;

    beforeAll(async () => {
      if (!existsSync(join(dist, "main.js"))) {
        throw new Error("apps/web/dist/main.js is missing: run pnpm --filter @bigfile/web build");
      }
      tmp = await tempDir("web-menus");
      await execa("mkdir", ["-p", join(tmp.path, "root/etc")]);
      await writeFile(join(tmp.path, "vmlinuz"), "not a real kernel\n");
      await writeFile(join(tmp.path, "initrd.img"), "not a real initrd\n");
      browser = await chromium.launch({
        executablePath: findTool("chromium") ?? "/usr/bin/chromium",
      });
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await tmp?.remove();
    });

    async function build(name: string): Promise<string> {
      const image = join(tmp.path, name);
      const r = await execa(bigfile, [
        "build",
        ...["-o", image, "--size", "64M", "--align", "mib", "--rootfs", join(tmp.path, "root")],
        ...["--kernel", join(tmp.path, "vmlinuz"), "--initrd", join(tmp.path, "initrd.img")],
        ...["--cmdline", "console=ttyS0 page=menus", "-q"],
      ]);
      expect(r.exitCode).toBe(0);
      return image;
    }

    it("shows the prefix and the menu pygrub reads, with pygrub's kernel, initrd and arguments", async () => {
      const image = await build("menus.img");
      const page = await openPage(browser, image);
      expect(await fact(page, "#boot", "GRUB prefix")).toBe("(hd0,msdos1)/boot/grub");
      const menu = "#menus article[data-config='/boot/grub/grub.cfg']";
      expect(await fact(page, menu, "pygrub")).toBe("the menu pygrub reads");
      const row = await page.locator(`${menu} tr[data-entry='0'] > *`).allTextContents();
      const [, , kernel, initrd, args] = row;
      // pygrub copies out the files the entry names and prints its arguments.
      const pygrub = await runPygrub(image);
      expect(pygrub.ok, pygrub.output).toBe(true);
      expect(args).toBe(pygrub.args);
      expect(args).toMatch(/console=ttyS0 page=menus/);
      expect(pygrub.kernel?.size).toBe("not a real kernel\n".length);
      expect(kernel).toBe("/boot/vmlinuz");
      expect(initrd).toBe("/boot/initrd.img");
      expect(await page.locator("#checks li").allTextContents()).toEqual([
        "ok: the partition table and the filesystems agree",
      ]);
      await page.close();
    });

    it("lists the checks bigfile inspect makes: a menu naming a kernel that is gone", async () => {
      const image = await build("no-kernel.img");
      await execa("debugfs", ["-w", "-R", "rm /boot/vmlinuz", withOffset(image, 1 << 20)]);
      const cli = await execa(bigfile, ["inspect", image, "--json"], { reject: false });
      expect(cli.exitCode).toBe(1);
      const checks = (JSON.parse(cli.stdout) as { checks: { level: string; message: string }[] })
        .checks;
      expect(checks.length).toBeGreaterThan(0);
      const page = await openPage(browser, image);
      expect(await page.locator("#checks li").allTextContents()).toEqual(
        checks.map((c) => `${c.level}: ${c.message}`),
      );
      expect(checks[0]?.message).toMatch(/names the kernel \/boot\/vmlinuz, which is not a file/);
      await page.close();
    });
  },
);
