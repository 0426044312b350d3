import { sharedConfig } from "../../vitest.shared.ts";

// Building the seed's 4 GB image and driving Chromium takes longer than a unit test.
export default sharedConfig({ testTimeout: 300_000 });
