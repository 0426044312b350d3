// The guest-clock allowance of the e2fsck oracle: a superblock written a
// little in the host's future passes, one far in the future is still reported.
import { open } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { e2fsck, GUEST_CLOCK_SLACK_SECONDS, guestAwareNow } from "./e2fsck.ts";
import { type TempDir, tempDir } from "./temp_dir.ts";
import { describeWithTools } from "./tools.ts";

const OFFSET = 4096;

async function setTimes(image: string, seconds: number): Promise<void> {
  const times = Buffer.alloc(8);
  times.writeUInt32LE(seconds, 0); // s_mtime
  times.writeUInt32LE(seconds, 4); // s_wtime
  const fh = await open(image, "r+");
  try {
    await fh.write(times, 0, 8, OFFSET + 1024 + 44);
  } finally {
    await fh.close();
  }
}

describeWithTools(["mke2fs", "e2fsck"], "e2fsck oracle after a guest wrote", () => {
  let tmp: TempDir;
  let image: string;
  beforeAll(async () => {
    tmp = await tempDir("e2fsck-clock");
    image = join(tmp.path, "fs.img");
    await execa("truncate", ["-s", "4M", image]);
    await execa("mke2fs", ["-q", "-F", "-t", "ext3", "-E", `offset=${OFFSET}`, image, "2M"]);
  });
  afterAll(() => tmp.remove());

  it("accepts a guest clock slightly ahead and reports one far ahead", async () => {
    const now = Math.floor(Date.now() / 1000);
    await setTimes(image, now + 30);
    const strict = await e2fsck(image, { offset: OFFSET });
    expect(strict.problems.join("\n")).toContain("last write time is in the future");
    const lenient = await e2fsck(image, { offset: OFFSET, guestClock: true });
    expect(lenient.problems).toEqual([]);
    expect(lenient.exitCode).toBe(0);

    await setTimes(image, now + GUEST_CLOCK_SLACK_SECONDS + 3600);
    expect(await guestAwareNow(image, OFFSET, now)).toBeUndefined();
    const far = await e2fsck(image, { offset: OFFSET, guestClock: true });
    expect(far.problems.join("\n")).toContain("in the future");
  });

  it("takes the host's clock when the guest's is behind", async () => {
    const now = Math.floor(Date.now() / 1000);
    await setTimes(image, now - 100);
    expect(await guestAwareNow(image, OFFSET, now)).toBeUndefined();
    expect(await guestAwareNow(image, OFFSET, now - 130)).toBe(now - 100);
    expect((await e2fsck(image, { offset: OFFSET, guestClock: true })).clean).toBe(true);
  });
});
