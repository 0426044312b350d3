// copyRange and nonZeroRuns: moving a file's bytes to another file without
// them passing through JavaScript, for converting images whose data is
// already in a file.
//
// copyRange(inFd, inOffset, outFd, outOffset, length): copy_file_range(2),
// which lets the kernel copy (or share, on filesystems with reflinks) the
// pages; where it refuses (another filesystem on old kernels, no such call),
// pread/pwrite through one buffer. Throws an Error with the errno name as
// code; "EIO" when the source ends before `length` bytes.
//
// nonZeroRuns(fd, offset, length, unit): which units (of `unit` bytes,
// aligned to the file's start) of [offset, offset + length) hold a non-zero
// byte, as [offset, length, ...] byte runs clipped to the range: the data a
// sparse image needs, found at memory speed.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addon.h"

#define BUFFER_BYTES (1 << 20)

static napi_value throw_short(napi_env env) {
  napi_throw_error(env, "EIO", "the source file ended before the range did (did it shrink?)");
  return NULL;
}

// Copies by reading and writing; 1 on success, else 0 with an exception set.
static int copy_by_buffer(napi_env env, int in, off_t from, int out, off_t to, off_t length) {
  unsigned char *buffer = malloc(BUFFER_BYTES);
  if (!buffer) {
    throw_errno(env, "copyRange", ENOMEM);
    return 0;
  }
  int ok = 1;
  while (length > 0 && ok) {
    size_t want = length < BUFFER_BYTES ? (size_t)length : BUFFER_BYTES;
    ssize_t got = pread(in, buffer, want, from);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw_errno(env, "pread", errno);
      ok = 0;
      break;
    }
    if (got == 0) {
      throw_short(env);
      ok = 0;
      break;
    }
    for (ssize_t done = 0; done < got;) {
      ssize_t put = pwrite(out, buffer + done, (size_t)(got - done), to + done);
      if (put < 0) {
        if (errno == EINTR) continue;
        throw_errno(env, "pwrite", errno);
        ok = 0;
        break;
      }
      done += put;
    }
    from += got;
    to += got;
    length -= got;
  }
  free(buffer);
  return ok;
}

static napi_value copy_range(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t in, out;
  off_t from, to, length;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &in) != napi_ok || in < 0 ||
      !get_offset(env, argv[1], &from) || napi_get_value_int32(env, argv[2], &out) != napi_ok ||
      out < 0 || !get_offset(env, argv[3], &to) || !get_offset(env, argv[4], &length)) {
    napi_throw_type_error(env, NULL,
                          "copyRange(inFd, inOffset, outFd, outOffset, length): descriptors and non-negative integers");
    return NULL;
  }
#ifdef __linux__
  while (length > 0) {
    loff_t a = from, b = to;
    size_t want = length < (1 << 30) ? (size_t)length : (1 << 30);
    ssize_t copied = copy_file_range(in, &a, out, &b, want, 0);
    if (copied > 0) {
      from += copied;
      to += copied;
      length -= copied;
      continue;
    }
    if (copied == 0) return throw_short(env);
    if (errno == EINTR) continue;
    // The kernel will not copy between these two: do it by hand.
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
        errno == ETXTBSY || errno == EPERM)
      break;
    return throw_errno(env, "copy_file_range", errno);
  }
#endif
  if (length > 0 && !copy_by_buffer(env, in, from, out, to, length)) return NULL;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

// Whether n bytes at p are all zero; stops at the first that is not.
static int all_zero(const unsigned char *p, size_t n) {
  while (n > 0 && ((uintptr_t)p & 7) != 0) {
    if (*p++) return 0;
    n--;
  }
  const uint64_t *word = (const uint64_t *)p;
  size_t words = n / 8, i = 0;
  for (; i + 8 <= words; i += 8) {
    if (word[i] | word[i + 1] | word[i + 2] | word[i + 3] | word[i + 4] | word[i + 5] |
        word[i + 6] | word[i + 7])
      return 0;
  }
  for (; i < words; i++)
    if (word[i]) return 0;
  for (p += words * 8, n -= words * 8; n > 0; n--)
    if (*p++) return 0;
  return 1;
}

typedef struct {
  napi_env env;
  napi_value array;
  uint32_t count;
  off_t start, end; // the run being grown; start == end: none
} Runs;

static int flush_run(Runs *runs) {
  if (runs->start == runs->end) return 1;
  napi_value offset, length;
  if (napi_create_double(runs->env, (double)runs->start, &offset) != napi_ok ||
      napi_create_double(runs->env, (double)(runs->end - runs->start), &length) != napi_ok ||
      napi_set_element(runs->env, runs->array, runs->count++, offset) != napi_ok ||
      napi_set_element(runs->env, runs->array, runs->count++, length) != napi_ok)
    return 0;
  runs->start = runs->end = 0;
  return 1;
}

static napi_value non_zero_runs(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t fd;
  off_t offset, length, unit;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      !get_offset(env, argv[1], &offset) || !get_offset(env, argv[2], &length) ||
      !get_offset(env, argv[3], &unit) || unit < 1 || unit > BUFFER_BYTES ||
      BUFFER_BYTES % unit != 0) {
    napi_throw_type_error(env, NULL,
                          "nonZeroRuns(fd, offset, length, unit): a descriptor, non-negative integers, a unit dividing 1 MiB");
    return NULL;
  }
  Runs runs = {env, NULL, 0, 0, 0};
  if (napi_create_array(env, &runs.array) != napi_ok) return NULL;
  unsigned char *buffer = NULL;
  if (posix_memalign((void **)&buffer, 4096, BUFFER_BYTES) != 0) return throw_errno(env, "nonZeroRuns", ENOMEM);
  napi_value result = runs.array;
  off_t end = offset + length;
  for (off_t at = offset; at < end;) {
    // Reads end on whole MiBs of the file, so units never straddle two reads.
    off_t chunk_end = (at / BUFFER_BYTES + 1) * BUFFER_BYTES;
    if (chunk_end > end) chunk_end = end;
    ssize_t got = pread(fd, buffer, (size_t)(chunk_end - at), at);
    if (got < 0) {
      if (errno == EINTR) continue;
      result = throw_errno(env, "pread", errno);
      goto done;
    }
    if (got == 0) break; // past the end of the file: nothing more is data
    chunk_end = at + got;
    for (off_t u = at; u < chunk_end;) {
      off_t u_end = (u / unit + 1) * unit;
      if (u_end > chunk_end) u_end = chunk_end;
      if (!all_zero(buffer + (u - at), (size_t)(u_end - u))) {
        if (runs.end != u) {
          if (!flush_run(&runs)) {
            result = NULL;
            goto done;
          }
          runs.start = u;
        }
        runs.end = u_end;
      }
      u = u_end;
    }
    at = chunk_end;
  }
  if (!flush_run(&runs)) result = NULL;
done:
  free(buffer);
  return result;
}

int register_file_ranges(napi_env env, napi_value exports) {
  napi_value copy, scan;
  return napi_create_function(env, "copyRange", NAPI_AUTO_LENGTH, copy_range, NULL, &copy) == napi_ok &&
         napi_set_named_property(env, exports, "copyRange", copy) == napi_ok &&
         napi_create_function(env, "nonZeroRuns", NAPI_AUTO_LENGTH, non_zero_runs, NULL, &scan) == napi_ok &&
         napi_set_named_property(env, exports, "nonZeroRuns", scan) == napi_ok;
}
