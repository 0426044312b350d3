import { symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithTools, isCI } from "../../../test/harness/tools.ts";
import { hasNativeXattrs, readXattrs } from "./file_xattrs.ts";

let work = "";
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "blockdev-xattrs-"));
});
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describeWithTools([["setfattr", "attr"]], "readXattrs against setfattr", () => {
  it("is built wherever the addon is (in CI always)", () => {
    if (isCI()) expect(hasNativeXattrs()).toBe(true);
    else if (!hasNativeXattrs())
      console.warn("blockdev: native addon not built: readXattrs untested");
  });

  it.runIf(hasNativeXattrs())(
    "gives what setfattr set (binary values, a non-UTF-8 path), none for a plain file, and does not follow symlinks",
    async () => {
      const file = join(work, "f");
      writeFileSync(file, "x");
      await execa("setfattr", ["-n", "user.text", "-v", "hello", file]);
      await execa("setfattr", ["-n", "user.bin", "-v", "0x00ff0a", file]);
      const got = readXattrs(file) ?? [];
      expect(
        Object.fromEntries(got.map((x) => [x.name, Buffer.from(x.value).toString("hex")])),
      ).toEqual({ "user.text": Buffer.from("hello").toString("hex"), "user.bin": "00ff0a" });
      const plain = join(work, "plain");
      writeFileSync(plain, "");
      expect(readXattrs(plain)).toEqual([]);
      const odd = Buffer.concat([Buffer.from(`${work}/`), Buffer.from([0xff, 0x41])]);
      writeFileSync(odd, "");
      await execa("setfattr", ["-n", "user.odd", "-v", "1", odd.toString("latin1")], {
        reject: false,
      });
      const link = join(work, "link");
      symlinkSync(file, link);
      expect(readXattrs(link)).toEqual([]);
      expect(() => readXattrs(join(work, "missing"))).toThrow(/ENOENT|No such file/);
      expect(Array.isArray(readXattrs(odd))).toBe(true);
    },
  );
});
