// The README's first command: `scripts/demo.sh --boot` builds the seed's big
// file from a BusyBox root and a Debian kernel with `bigfile build`, prints the
// QEMU and Xen command lines, and boots it in QEMU to a shell prompt on the
// serial console. The test types a command at that prompt and powers off.
import { statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { beforeAll, expect, it } from "vitest";
import { bootFixtures, describeWithTools, stripAnsi, tempDir } from "../harness/mod.ts";

const demo = fileURLToPath(new URL("../../scripts/demo.sh", import.meta.url));

describeWithTools(
  ["qemu-system-x86_64", "busybox", "cpio", "grub-mkimage", "/usr/lib/grub/i386-pc"],
  "scripts/demo.sh --boot",
  () => {
    beforeAll(async () => {
      await bootFixtures();
    }, 600_000);

    it("reaches the guest's shell prompt on the serial console", async () => {
      const tmp = await tempDir("demo");
      const image = join(tmp.path, "big.img");
      const child = execa("bash", [demo, "--boot", image], {
        reject: false,
        stdin: "pipe",
        all: true,
        buffer: false,
        timeout: 540_000,
        forceKillAfterDelay: 2000,
      });
      let log = "";
      const waiters: { text: string; resolve: () => void }[] = [];
      child.all?.on("data", (chunk: Buffer) => {
        log += chunk.toString("latin1");
        const clean = stripAnsi(log);
        for (const w of waiters.splice(0)) {
          if (clean.includes(w.text)) w.resolve();
          else waiters.push(w);
        }
      });
      const seen = (text: string) =>
        new Promise<void>((resolve) => {
          if (stripAnsi(log).includes(text)) resolve();
          else waiters.push({ text, resolve });
        });
      try {
        await Promise.race([seen("bigfile:/root# "), child]);
        expect(stripAnsi(log), log.slice(-4000)).toContain("bigfile:/root# ");
        // What the script printed before booting: the image and the command lines.
        expect(statSync(image).size).toBe(4141875200);
        expect(log).toMatch(
          /partition 1: sectors 63-8080694 \(byte 32256, 4137283584 bytes = 4040316 KiB\)/,
        );
        expect(log).toMatch(/qemu-system-x86_64 .*-drive file=.*big\.img,format=raw/);
        expect(log).toMatch(/bootloader = "pygrub"/);
        child.stdin?.write("echo demo-$((6 * 7)) on $(hostname)\n");
        await Promise.race([seen("demo-42 on bigfile"), child]);
        expect(stripAnsi(log)).toContain("demo-42 on bigfile");
        child.stdin?.write("poweroff -f\n");
        const result = await child;
        expect(result.timedOut).toBe(false);
      } finally {
        child.kill("SIGKILL");
        await tmp.remove();
      }
    }, 600_000);
  },
);
