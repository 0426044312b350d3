import { mergeConfig } from "vitest/config";
import { sharedConfig } from "../../vitest.shared.ts";

// The held-out check on e2fsprogs' own f_* images runs only when
// EXT3FS_E2FSPROGS_TESTS names a checkout's tests/ (the images are not ours
// to ship): otherwise it is not collected at all, rather than reported skipped.
const heldOut = process.env.EXT3FS_E2FSPROGS_TESTS ? [] : ["src/read/check_heldout_test.ts"];

export default mergeConfig(sharedConfig(), {
  test: { exclude: ["**/node_modules/**", "**/dist/**", ...heldOut] },
});
