// dataRegions(fd, start, end): where a file's data is, by lseek(SEEK_DATA /
// SEEK_HOLE), which Node has no binding for. Returns [offset, length, ...]
// (bytes, in order, clipped to [start, end)). A filesystem that does not
// track holes reports everything as data; one that refuses the whence values
// throws an Error whose code is the errno name (EINVAL), and the caller falls
// back to reading the file.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#if !defined(SEEK_DATA) || !defined(SEEK_HOLE)
#error "this platform has no SEEK_DATA/SEEK_HOLE"
#endif

// Offsets travel as doubles: exact up to 2^53, far beyond any file.
#define MAX_SAFE_OFFSET 9007199254740991.0

static const char *errno_code(int error) {
  switch (error) {
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case ENXIO: return "ENXIO";
  case EOVERFLOW: return "EOVERFLOW";
  case ESPIPE: return "ESPIPE";
  case EIO: return "EIO";
  default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  napi_throw_error(env, errno_code(error), message);
  return NULL;
}

static int get_offset(napi_env env, napi_value value, off_t *out) {
  double number;
  if (napi_get_value_double(env, value, &number) != napi_ok) return 0;
  if (!(number >= 0 && number <= MAX_SAFE_OFFSET) || number != (double)(int64_t)number) return 0;
  *out = (off_t)number;
  return 1;
}

static napi_value data_regions(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  int32_t fd;
  off_t start, end;
  if (argc < 3 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      !get_offset(env, argv[1], &start) || !get_offset(env, argv[2], &end) || end < start) {
    napi_throw_type_error(env, NULL, "dataRegions(fd, start, end): a descriptor and 0 <= start <= end");
    return NULL;
  }
  napi_value result;
  if (napi_create_array(env, &result) != napi_ok) return NULL;
  uint32_t count = 0;
  off_t position = start;
  while (position < end) {
    off_t data = lseek(fd, position, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break; // no data at or after position: the rest is a hole
      return throw_errno(env, "lseek(SEEK_DATA)", errno);
    }
    if (data >= end) break;
    off_t hole = lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return throw_errno(env, "lseek(SEEK_HOLE)", errno);
    // A file truncated between the two calls: what is past its end is no data.
    if (hole <= data) break;
    if (hole > end) hole = end;
    napi_value offset, length;
    if (napi_create_double(env, (double)data, &offset) != napi_ok ||
        napi_create_double(env, (double)(hole - data), &length) != napi_ok ||
        napi_set_element(env, result, count++, offset) != napi_ok ||
        napi_set_element(env, result, count++, length) != napi_ok) {
      return NULL;
    }
    position = hole;
  }
  return result;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "dataRegions", NAPI_AUTO_LENGTH, data_regions, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "dataRegions", fn) != napi_ok) {
    return NULL;
  }
  return exports;
}
