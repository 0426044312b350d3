import { describe, expect, it } from "vitest";
import { normalizeTarPath, tarPathProblem } from "./tar_path.ts";

describe("normalizeTarPath", () => {
  it("drops ./ prefixes, empty and . components and trailing slashes", () => {
    expect(normalizeTarPath("./boot//grub/")).toBe("boot/grub");
    expect(normalizeTarPath("./")).toBe(".");
    expect(normalizeTarPath(".")).toBe(".");
    expect(normalizeTarPath("a/./b/.")).toBe("a/b");
    expect(normalizeTarPath("a\\b")).toBe("a\\b");
  });
  it("keeps what makes a path unsafe", () => {
    expect(normalizeTarPath("//etc/passwd")).toBe("/etc/passwd");
    expect(normalizeTarPath("./../x")).toBe("../x");
    expect(normalizeTarPath("a/../b")).toBe("a/../b");
  });
});

describe("tarPathProblem", () => {
  it("names absolute paths, .. components, NULs and empty paths", () => {
    expect(tarPathProblem("/etc/passwd")).toBe("it is absolute");
    expect(tarPathProblem("a/../../b")).toBe("it has a '..' component");
    expect(tarPathProblem("..")).toBe("it has a '..' component");
    expect(tarPathProblem("a\0b")).toBe("it contains a NUL byte");
    expect(tarPathProblem("")).toBe("it is empty");
    expect(tarPathProblem("a/..b/c..")).toBeUndefined();
    expect(tarPathProblem(".")).toBeUndefined();
  });
});
