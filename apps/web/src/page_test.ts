// The page in a real browser: Debian's Chromium (driven by playwright-core,
// no browser download) opens the seed's 4 GB image made by the real
// `bigfile build`, and what it shows is checked against sfdisk, dumpe2fs and
// debugfs. Outside CI a missing chromium skips with one loud line naming the
// Debian package; in CI it fails.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, truncate, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  bootFixtures,
  describeWithTools,
  findTool,
  sfdiskJson,
  type TempDir,
  tempDir,
  withOffset,
} from "../../../test/harness/mod.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const dist = resolve(repo, "apps/web/dist");
const bigfile = resolve(repo, "apps/bigfile/bin/bigfile.js");
const screenshot = resolve(repo, ".test-results/web/page.png");

const HOSTNAME = "bigfile-web-test\n";
const SEED = { bytes: 4141875200, start: 63, sectors: 8080632, offset: 32256 };
/** What the page may read of the 4 GB image to show it all (before any download). */
const READ_BUDGET = 2 ** 20;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".map": "application/json",
};

/** Serves dist/ on 127.0.0.1: the page as a user would get it, from a web server. */
function serveDist(): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const file = resolve(dist, `.${path === "/" ? "/index.html" : path}`);
    if (!file.startsWith(dist)) {
      response.writeHead(403).end();
      return;
    }
    try {
      const body = readFileSync(file);
      response.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      });
      response.end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  return new Promise((done) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      done({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** A deterministic non-repeating 5 MiB + 123 bytes: more than one of the reader's 4 MiB chunks. */
function bigFileBytes(): Uint8Array {
  const out = new Uint8Array(5 * 2 ** 20 + 123);
  let x = 0x9e3779b9;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function cellTexts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allTextContents();
}

async function download(page: Page, path: string): Promise<Uint8Array> {
  const [file] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: `Download ${path}` }).click(),
  ]);
  const saved = await file.path();
  return new Uint8Array(await readFile(saved));
}

describeWithTools(
  [
    ["chromium", "chromium"],
    "sfdisk",
    "dumpe2fs",
    "debugfs",
    "grub-mkimage",
    "/usr/lib/grub/i386-pc",
    "qemu-img",
    "busybox",
    "cpio",
    "dpkg",
    "apt-get",
  ],
  "apps/web in headless Chromium: the seed's 4 GB image",
  () => {
    let tmp: TempDir;
    let image: string;
    let browser: Browser;
    let server: Server;
    let url: string;
    const big = bigFileBytes();

    beforeAll(async () => {
      expect(
        existsSync(join(dist, "main.js")),
        "apps/web/dist/main.js is missing: run pnpm --filter @bigfile/web build",
      ).toBe(true);
      tmp = await tempDir("web-page");
      const root = join(tmp.path, "root");
      await mkdir(join(root, "etc"), { recursive: true });
      await mkdir(join(root, "srv"), { recursive: true });
      await writeFile(join(root, "etc/hostname"), HOSTNAME);
      await writeFile(join(root, "srv/random.bin"), big);
      const fx = await bootFixtures();
      image = join(tmp.path, "big.img");
      const built = await execa(
        bigfile,
        [
          "build",
          "-o",
          image,
          "--size",
          String(SEED.bytes),
          "--align",
          "cylinder",
          "--rootfs",
          root,
          "--kernel",
          fx.vmlinuz,
          "--initrd",
          fx.initrd,
        ],
        { reject: false },
      );
      expect(built.exitCode, built.stderr).toBe(0);
      ({ server, url } = await serveDist());
      browser = await chromium.launch({
        executablePath: findTool("chromium") ?? "/usr/bin/chromium",
      });
    }, 600_000);

    afterAll(async () => {
      await browser?.close();
      server?.close();
      await tmp?.remove();
    });

    it("shows the table, the ext3 filesystem, GRUB and the tree, and hands back files byte for byte", async () => {
      const page = await browser.newPage({
        acceptDownloads: true,
        viewport: { width: 1200, height: 900 },
      });
      const pageErrors: string[] = [];
      page.on("pageerror", (error) => pageErrors.push(error.message));
      await page.goto(url);
      // The file input has its label (what a screen reader announces).
      expect(await page.getByLabel("Disk image").count()).toBe(1);
      // Playwright hands the browser the path: the 4 GB file is not read by the test.
      await page.setInputFiles("#image", image);
      await page.waitForSelector("body[data-state=ready], body[data-state=error]");
      expect(
        await page.locator("#error").isHidden(),
        (await page.locator("#error").textContent()) ?? "",
      ).toBe(true);
      expect(await page.getAttribute("body", "data-state")).toBe("ready");

      // Geometry: the seed's 503 cylinders of 255 x 63 sectors.
      const disk = await page.locator("#disk dd").allTextContents();
      expect(disk).toContain("4141875200 bytes (3.9 GiB)");
      expect(disk).toContain("255 heads, 63 sectors/track, 503 cylinders");

      // The partition table, against sfdisk's reading of the same image.
      const sfdisk = (await sfdiskJson(image)).table?.partitions ?? [];
      expect(sfdisk).toHaveLength(1);
      const row = await cellTexts(page, "#partition-table tr[data-partition='1'] > *");
      expect(row).toEqual([
        "1",
        "*",
        String(SEED.start),
        String(SEED.sectors),
        String(SEED.offset),
        String(SEED.sectors * 512),
        "83",
        "Linux",
      ]);
      expect(Number(row[2])).toBe(sfdisk[0]?.start);
      expect(Number(row[3])).toBe(sfdisk[0]?.size);
      expect(sfdisk[0]?.bootable).toBe(true);

      // The filesystem, against dumpe2fs's reading of the superblock.
      const dump = (await execa("dumpe2fs", ["-h", withOffset(image, SEED.offset)])).stdout;
      const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(dump)?.[1]?.trim();
      const fsFacts = await page
        .locator("#filesystems article[data-partition='1'] dd")
        .allTextContents();
      const blockSize = Number(field("Block size"));
      const blockCount = Number(field("Block count"));
      expect(blockCount * blockSize).toBe(4040316 * 1024);
      expect(field("Filesystem features")).toMatch(/\bhas_journal\b/);
      expect(fsFacts[0]).toBe("ext3");
      expect(fsFacts[1]).toBe(`${blockCount} of ${blockSize} bytes`);
      expect(fsFacts[2]).toMatch(new RegExp(`^${4040316 * 1024} bytes `));
      expect(fsFacts[4]).toBe(field("Filesystem UUID"));
      expect(fsFacts[5]).toMatch(new RegExp(`^${Number(field("Free blocks")) * blockSize} bytes`));
      expect(fsFacts[7]).toBe("clean");

      // GRUB's boot.img in sector 0 and an intact core.img in the gap.
      const boot = await page.locator("#boot dd").allTextContents();
      expect(boot[0]).toBe("GRUB 2 (boot.img)");
      expect(boot[2]).toMatch(/^sector 1, \d+ sectors; Reed-Solomon: intact$/);
      expect(await page.locator("#checks li").allTextContents()).toEqual([
        "ok: the partition table and the filesystems agree",
      ]);

      // The tree: the root is open, /etc and /boot are listed; nothing more was read.
      const tree = page.locator("#files details[data-partition='1']");
      await tree.locator("details[data-path='/etc']").waitFor();
      await tree.locator("details[data-path='/boot']").waitFor();
      await tree.locator("details[data-path='/boot'] > summary").click();
      await tree.locator("li[data-path='/boot/vmlinuz']").waitFor();
      await tree.locator("details[data-path='/etc'] > summary").click();
      await tree.locator("li[data-path='/etc/hostname']").waitFor();
      await tree.locator("details[data-path='/srv'] > summary").click();
      await tree.locator("li[data-path='/srv/random.bin']").waitFor();
      const beforeDownloads = await page.evaluate(() => window.bigfileWeb.bytesRead);
      expect(beforeDownloads).toBeGreaterThan(0);
      expect(beforeDownloads).toBeLessThan(READ_BUDGET);

      await mkdir(resolve(screenshot, ".."), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });

      // Downloads: the exact bytes, checked against what went in and what debugfs reads.
      const hostname = await download(page, "/etc/hostname");
      expect(new TextDecoder().decode(hostname)).toBe(HOSTNAME);
      // execa (and so the harness's debugfsCat) strips a final newline: ask debugfs directly.
      const debugfs = await execa(
        "debugfs",
        ["-R", "cat /etc/hostname", withOffset(image, SEED.offset)],
        { encoding: "buffer", stripFinalNewline: false },
      );
      expect(hostname).toEqual(new Uint8Array(debugfs.stdout));
      const random = await download(page, "/srv/random.bin");
      expect(random.length).toBe(big.length);
      expect(sha256(random)).toBe(sha256(big));
      const afterDownloads = await page.evaluate(() => window.bigfileWeb.bytesRead);
      // The downloads read the files' blocks and their maps, not the image.
      expect(afterDownloads - beforeDownloads).toBeLessThan(big.length + HOSTNAME.length + 2 ** 20);
      expect(pageErrors).toEqual([]);
      await page.close();
    });

    it("kept a PNG screenshot of the page as a test artifact", () => {
      const png = readFileSync(screenshot);
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.length).toBeGreaterThan(10_000);
    });

    it("says in one line on the page what is wrong with a file that is not a disk image", async () => {
      const page = await browser.newPage();
      await page.goto(url);
      const tiny = join(tmp.path, "notes.txt");
      await writeFile(tiny, "not a disk\n");
      await page.setInputFiles("#image", tiny);
      await page.waitForSelector("body[data-state=error]");
      const error = await page.locator("#error").textContent();
      expect(error).toBe(
        "Cannot read notes.txt: the image holds 11 bytes, less than one 512-byte sector: choose a disk image",
      );
      expect(await page.locator("#report").innerHTML()).toBe("");
      await page.close();
    });

    // Containers qemu-img makes of the image; compressed clusters and grains
    // inflate in the page through DecompressionStream.
    for (const [format, args] of [
      ["vhd", ["-O", "vpc", "-o", "subformat=dynamic,force_size=on"]],
      ["qcow2", ["-O", "qcow2", "-c"]],
      ["vmdk-stream", ["-O", "vmdk", "-o", "subformat=streamOptimized"]],
    ] as const) {
      it(`reads the same disk from a ${format} that qemu-img made of the image (${args.join(" ")})`, async () => {
        const converted = join(tmp.path, `big.${format}`);
        const made = await execa("qemu-img", ["convert", "-f", "raw", ...args, image, converted], {
          reject: false,
        });
        expect(made.exitCode, made.stderr).toBe(0);
        const page = await browser.newPage({ acceptDownloads: true });
        const pageErrors: string[] = [];
        page.on("pageerror", (error) => pageErrors.push(error.message));
        await page.goto(url);
        await page.setInputFiles("#image", converted);
        await page.waitForSelector("body[data-state=ready], body[data-state=error]");
        expect((await page.locator("#error").textContent()) ?? "").toBe("");
        const disk = await page.locator("#disk dd").allTextContents();
        expect(disk[1]).toBe(format);
        expect(disk[2]).toBe("4141875200 bytes (3.9 GiB)");
        // The table as sfdisk reads it from the raw image.
        const sfdisk = (await sfdiskJson(image)).table?.partitions ?? [];
        const row = await cellTexts(page, "#partition-table tr[data-partition='1'] > *");
        expect(row).toEqual([
          "1",
          sfdisk[0]?.bootable ? "*" : "",
          String(sfdisk[0]?.start),
          String(sfdisk[0]?.size),
          String(SEED.offset),
          String(SEED.sectors * 512),
          "83",
          "Linux",
        ]);
        const fsFacts = await page
          .locator("#filesystems article[data-partition='1'] dd")
          .allTextContents();
        expect(fsFacts[0]).toBe("ext3");
        const tree = page.locator("#files details[data-partition='1']");
        await tree.locator("details[data-path='/etc'] > summary").click();
        await tree.locator("li[data-path='/etc/hostname']").waitFor();
        const hostname = await download(page, "/etc/hostname");
        const debugfs = await execa(
          "debugfs",
          ["-R", "cat /etc/hostname", withOffset(image, SEED.offset)],
          { encoding: "buffer", stripFinalNewline: false },
        );
        expect(hostname).toEqual(new Uint8Array(debugfs.stdout));
        expect(new TextDecoder().decode(hostname)).toBe(HOSTNAME);
        expect(pageErrors).toEqual([]);
        await page.close();
      });
    }

    it("refuses a cut-short qcow2 in one line, with vdisk's reason", async () => {
      const page = await browser.newPage();
      await page.goto(url);
      const cut = join(tmp.path, "cut.qcow2");
      await execa("qemu-img", ["create", "-q", "-f", "qcow2", cut, "16M"]);
      await truncate(cut, 4096);
      await page.setInputFiles("#image", cut);
      await page.waitForSelector("body[data-state=error]");
      expect(await page.locator("#error").textContent()).toMatch(
        /^Cannot read cut\.qcow2: it is a qcow2 image that cannot be read: L1 table offset \d+ is not a cluster inside the 4096-byte file$/,
      );
      await page.close();
    });

    it("takes an image dropped on the page", async () => {
      const page = await browser.newPage();
      await page.goto(url);
      // A small file made in the page: a real drop of the 4 GB image would need a file chooser.
      const dataTransfer = await page.evaluateHandle(() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(["x".repeat(100)], "dropped.img"));
        return transfer;
      });
      await page.dispatchEvent("#report", "drop", { dataTransfer });
      await page.waitForSelector("body[data-state=error]");
      expect(await page.locator("#error").textContent()).toBe(
        "Cannot read dropped.img: the image holds 100 bytes, less than one 512-byte sector: choose a disk image",
      );
      await page.close();
    });
  },
);
