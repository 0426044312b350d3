// copyRanges and nonZeroRuns: moving a file's bytes to another file without
// them passing through JavaScript, for converting images whose data is
// already in a file. One thread each: measured, a second thread made
// neither faster (writes to one file take its inode lock; a scan is bound by
// memory bandwidth).
//
// copyRanges(inFd, outFd, ranges): ranges is [outOffset, inOffset, length,
// ...]. copy_file_range(2) lets the kernel copy (or share, on filesystems
// with reflinks) the pages; where it refuses (another filesystem on old
// kernels, no such call), pread/pwrite through a buffer. Throws an Error
// with the errno name as code; "EIO" when the source ends before a range does.
//
// nonZeroRuns(fd, offset, length, unit): which units (of `unit` bytes, a
// power of two aligned to the file's start) of [offset, offset + length)
// hold a non-zero byte, as [offset, length, ...] byte runs clipped to the
// range: the data a sparse image needs, found at memory speed.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <pthread.h> // the buffer pool's lock
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addon.h"

#define BUFFER_BYTES (1 << 20)
// A short read of the source: reported as EIO with its own message.
#define SHORT_SOURCE -1

// Buffers kept between calls (a few: worker threads may call too): a fresh
// MiB from the allocator is fresh pages, whose faults cost as much as the
// scan of a small region.
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char *pool[4];
static int pooled = 0;

static unsigned char *take_buffer(void) {
  unsigned char *buffer = NULL;
  pthread_mutex_lock(&pool_lock);
  if (pooled > 0) buffer = pool[--pooled];
  pthread_mutex_unlock(&pool_lock);
  if (!buffer && posix_memalign((void **)&buffer, 4096, BUFFER_BYTES) != 0) buffer = NULL;
  return buffer;
}

static void give_buffer(unsigned char *buffer) {
  if (!buffer) return;
  pthread_mutex_lock(&pool_lock);
  if (pooled < (int)(sizeof pool / sizeof pool[0])) {
    pool[pooled++] = buffer;
    buffer = NULL;
  }
  pthread_mutex_unlock(&pool_lock);
  free(buffer);
}

static napi_value throw_failure(napi_env env, const char *what, int error) {
  if (error == SHORT_SOURCE) {
    napi_throw_error(env, "EIO", "the source file ended before the range did (did it shrink?)");
    return NULL;
  }
  return throw_errno(env, what, error);
}

// ---- copying ----

// Copies by reading and writing; 0, or an errno (SHORT_SOURCE) with *what set.
static int copy_by_buffer(int in, off_t from, int out, off_t to, off_t length, const char **what) {
  unsigned char *buffer = take_buffer();
  if (!buffer) return *what = "malloc", ENOMEM;
  int error = 0;
  while (length > 0 && !error) {
    size_t want = length < BUFFER_BYTES ? (size_t)length : BUFFER_BYTES;
    ssize_t got = pread(in, buffer, want, from);
    if (got < 0) {
      if (errno == EINTR) continue;
      *what = "pread";
      error = errno;
      break;
    }
    if (got == 0) {
      error = SHORT_SOURCE;
      break;
    }
    for (ssize_t done = 0; done < got;) {
      ssize_t put = pwrite(out, buffer + done, (size_t)(got - done), to + done);
      if (put < 0) {
        if (errno == EINTR) continue;
        *what = "pwrite";
        error = errno;
        break;
      }
      done += put;
    }
    from += got;
    to += got;
    length -= got;
  }
  give_buffer(buffer);
  return error;
}

// One range: in the kernel where it agrees, else through a buffer.
static int copy_one(int in, off_t from, int out, off_t to, off_t length, const char **what) {
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
    if (copied == 0) return SHORT_SOURCE;
    if (errno == EINTR) continue;
    // The kernel will not copy between these two: do it by hand.
    if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP ||
        errno == ETXTBSY || errno == EPERM)
      break;
    *what = "copy_file_range";
    return errno;
  }
#endif
  return length > 0 ? copy_by_buffer(in, from, out, to, length, what) : 0;
}

static napi_value copy_ranges(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t in, out;
  uint32_t numbers = 0;
  bool is_array = false;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &in) != napi_ok || in < 0 ||
      napi_get_value_int32(env, argv[1], &out) != napi_ok || out < 0 ||
      napi_is_array(env, argv[2], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[2], &numbers) != napi_ok || numbers % 3 != 0) {
    napi_throw_type_error(env, NULL, "copyRanges(inFd, outFd, [outOffset, inOffset, length, ...])");
    return NULL;
  }
  for (uint32_t i = 0; i < numbers; i += 3) {
    off_t range[3];
    for (int k = 0; k < 3; k++) {
      napi_value value;
      if (napi_get_element(env, argv[2], i + k, &value) != napi_ok ||
          !get_offset(env, value, &range[k])) {
        napi_throw_type_error(env, NULL, "copyRanges: offsets and lengths must be non-negative integers");
        return NULL;
      }
    }
    const char *what = NULL;
    int error = copy_one(in, range[1], out, range[0], range[2], &what);
    if (error) return throw_failure(env, what, error);
  }
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  return undefined;
}

// ---- scanning ----

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

// A scan of [from, to) in units: its runs so far, or the failure.
typedef struct {
  int fd;
  off_t from, to, unit;
  off_t *runs; // [offset, length] pairs
  size_t count, capacity;
  int error;
  const char *what;
} Scan;

static int add_run(Scan *job, off_t start, off_t end) {
  if (job->count > 0) {
    off_t *last = &job->runs[2 * (job->count - 1)];
    if (last[0] + last[1] == start) {
      last[1] = end - last[0];
      return 1;
    }
  }
  if (job->count == job->capacity) {
    size_t capacity = job->capacity ? job->capacity * 2 : 256;
    off_t *runs = realloc(job->runs, capacity * 2 * sizeof(off_t));
    if (!runs) return 0;
    job->runs = runs;
    job->capacity = capacity;
  }
  job->runs[2 * job->count] = start;
  job->runs[2 * job->count + 1] = end - start;
  job->count++;
  return 1;
}

// From this unit size on, a unit is read a piece at a time, from a first
// page, stopping at the first non-zero byte: most units of an image hold
// data from their start, so only a fraction of the bytes is read.
#define PROBE_FROM_UNIT ((off_t)64 << 10)
#define PROBE_BYTES 4096

// 1 if [from, to) holds a non-zero byte, 0 if not (or the file ends first:
// *end set), -1 on a failed read (job->error set).
static int unit_has_data(Scan *job, unsigned char *buffer, off_t from, off_t to, int *end) {
  off_t piece = PROBE_BYTES;
  for (off_t at = from; at < to;) {
    size_t want = (size_t)(to - at < piece ? to - at : piece);
    ssize_t got = pread(job->fd, buffer, want, at);
    if (got < 0) {
      if (errno == EINTR) continue;
      job->what = "pread";
      job->error = errno;
      return -1;
    }
    if (got == 0) {
      *end = 1;
      return 0;
    }
    if (!all_zero(buffer, (size_t)got)) return 1;
    at += got;
    piece = BUFFER_BYTES;
  }
  return 0;
}

static void scan_range(Scan *job) {
  unsigned char *buffer = take_buffer();
  if (!buffer) {
    job->what = "posix_memalign";
    job->error = ENOMEM;
    return;
  }
  if (job->unit >= PROBE_FROM_UNIT) {
    int end = 0;
    for (off_t u = job->from; u < job->to && !end;) {
      off_t u_end = (u / job->unit + 1) * job->unit;
      if (u_end > job->to) u_end = job->to;
      int data = unit_has_data(job, buffer, u, u_end, &end);
      if (data < 0) goto done;
      if (data && !add_run(job, u, u_end)) {
        job->what = "realloc";
        job->error = ENOMEM;
        goto done;
      }
      u = u_end;
    }
    goto done;
  }
  for (off_t at = job->from; at < job->to;) {
    // Reads end on whole MiBs of the file, so units never straddle two reads.
    off_t chunk_end = (at / BUFFER_BYTES + 1) * BUFFER_BYTES;
    if (chunk_end > job->to) chunk_end = job->to;
    ssize_t got = pread(job->fd, buffer, (size_t)(chunk_end - at), at);
    if (got < 0) {
      if (errno == EINTR) continue;
      job->what = "pread";
      job->error = errno;
      break;
    }
    if (got == 0) break; // past the end of the file: nothing more is data
    chunk_end = at + got;
    for (off_t u = at; u < chunk_end;) {
      off_t u_end = (u / job->unit + 1) * job->unit;
      if (u_end > chunk_end) u_end = chunk_end;
      if (!all_zero(buffer + (u - at), (size_t)(u_end - u)) && !add_run(job, u, u_end)) {
        job->what = "realloc";
        job->error = ENOMEM;
        goto done;
      }
      u = u_end;
    }
    at = chunk_end;
  }
done:
  give_buffer(buffer);
}

static napi_value non_zero_runs(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t fd;
  off_t offset, length, unit;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      !get_offset(env, argv[1], &offset) || !get_offset(env, argv[2], &length) ||
      !get_offset(env, argv[3], &unit) || unit < 512 || unit > ((off_t)1 << 30) ||
      (unit & (unit - 1)) != 0) {
    napi_throw_type_error(env, NULL,
                          "nonZeroRuns(fd, offset, length, unit): a descriptor, non-negative integers, a unit that is a power of two from 512 to 2^30");
    return NULL;
  }
  Scan job = {fd, offset, offset + length, unit, NULL, 0, 0, 0, NULL};
  scan_range(&job);
  napi_value result = NULL;
  if (job.error) {
    throw_failure(env, job.what, job.error);
    goto done;
  }
  if (napi_create_array(env, &result) != napi_ok) goto done;
  for (size_t i = 0; i < 2 * job.count; i++) {
    napi_value number;
    if (napi_create_double(env, (double)job.runs[i], &number) != napi_ok ||
        napi_set_element(env, result, (uint32_t)i, number) != napi_ok) {
      result = NULL;
      goto done;
    }
  }
done:
  free(job.runs);
  return result;
}

int register_file_ranges(napi_env env, napi_value exports) {
  napi_value copy, scan;
  return napi_create_function(env, "copyRanges", NAPI_AUTO_LENGTH, copy_ranges, NULL, &copy) == napi_ok &&
         napi_set_named_property(env, exports, "copyRanges", copy) == napi_ok &&
         napi_create_function(env, "nonZeroRuns", NAPI_AUTO_LENGTH, non_zero_runs, NULL, &scan) == napi_ok &&
         napi_set_named_property(env, exports, "nonZeroRuns", scan) == napi_ok;
}
