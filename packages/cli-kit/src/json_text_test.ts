import { describe, expect, it } from "vitest";
import { jsonText } from "./json_text.ts";

describe("jsonText", () => {
  it("prints one pretty document ending in a newline", () => {
    expect(jsonText({ bytes: 512, heads: [255] })).toBe(
      '{\n  "bytes": 512,\n  "heads": [\n    255\n  ]\n}\n',
    );
  });
});
