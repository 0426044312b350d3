const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "not a directory",
  ENOSPC: "no space left on device",
  EEXIST: "file exists",
  EROFS: "read-only file system",
  EFBIG: "file too large",
  EMFILE: "too many open files",
  EIO: "input/output error",
};

/** One line saying what went wrong, for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const errno = error as NodeJS.ErrnoException;
    if (typeof errno.code === "string" && errno.code in ERRNO_TEXT) {
      const what = ERRNO_TEXT[errno.code];
      const path = errno.path ? `'${errno.path}'` : "";
      const verb =
        errno.syscall === "open" || errno.syscall === "stat"
          ? "cannot open"
          : `cannot ${errno.syscall ?? "access"}`;
      return path ? `${verb} ${path}: ${what}` : `${errno.syscall ?? "error"}: ${what}`;
    }
    return error.message.split("\n")[0] ?? String(error);
  }
  return String(error);
}
