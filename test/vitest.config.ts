import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../vitest.shared.ts";

// Real-system tests boot QEMU (about 8 s each under TCG) and build fixtures
// on first use; the global setup builds the kernel and initramfs once, before
// any test file runs, so per-test timeouts only cover the tests themselves.
export default mergeConfig(sharedConfig({ testTimeout: 120_000 }), {
  test: {
    hookTimeout: 600_000,
    globalSetup: ["./harness/global_setup.ts"],
  },
});
