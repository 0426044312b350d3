// Node has no binding for these calls: dataRegions and listXattrs (below).
//
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
#include <stdlib.h>
#include <sys/types.h>
#ifdef __linux__
#include <sys/xattr.h>
#endif
#include <unistd.h>

#include "addon.h"

#if !defined(SEEK_DATA) || !defined(SEEK_HOLE)
#error "this platform has no SEEK_DATA/SEEK_HOLE"
#endif


const char *errno_code(int error) {
  switch (error) {
  case EINVAL: return "EINVAL";
  case EBADF: return "EBADF";
  case ENXIO: return "ENXIO";
  case EOVERFLOW: return "EOVERFLOW";
  case ESPIPE: return "ESPIPE";
  case EIO: return "EIO";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case ENOTDIR: return "ENOTDIR";
  case ENAMETOOLONG: return "ENAMETOOLONG";
  case ELOOP: return "ELOOP";
  case ENOSPC: return "ENOSPC";
  case EFBIG: return "EFBIG";
  case EXDEV: return "EXDEV";
  default: return "EUNKNOWN";
  }
}

napi_value throw_errno(napi_env env, const char *what, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(error));
  napi_throw_error(env, errno_code(error), message);
  return NULL;
}

int get_offset(napi_env env, napi_value value, off_t *out) {
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

#ifdef __linux__
// listXattrs(path): a file's extended attributes, without following a
// symlink (llistxattr/lgetxattr, which Node has no binding for), as
// [name, value, ...] (name a string, value a Buffer). `path` is a string or
// a Buffer (names that are not UTF-8). A filesystem without attributes gives [].
static char *path_argument(napi_env env, napi_value value) {
  bool is_buffer = false;
  napi_is_buffer(env, value, &is_buffer);
  if (is_buffer) {
    void *data;
    size_t length;
    if (napi_get_buffer_info(env, value, &data, &length) != napi_ok) return NULL;
    char *path = malloc(length + 1);
    if (!path) return NULL;
    memcpy(path, data, length);
    path[length] = 0;
    if (strlen(path) != length) {
      free(path);
      return NULL;
    }
    return path;
  }
  size_t length;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok) return NULL;
  char *path = malloc(length + 1);
  if (!path) return NULL;
  if (napi_get_value_string_utf8(env, value, path, length + 1, &length) != napi_ok) {
    free(path);
    return NULL;
  }
  return path;
}

static napi_value list_xattrs(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  char *path = argc < 1 ? NULL : path_argument(env, argv[0]);
  if (!path) {
    napi_throw_type_error(env, NULL, "listXattrs(path): a path (string or Buffer) without NUL bytes");
    return NULL;
  }
  napi_value result = NULL;
  char *names = NULL;
  char *value = NULL;
  ssize_t size = 0;
  // The list can grow between the two calls: try again a few times.
  for (int attempt = 0; attempt < 8; attempt++) {
    size = llistxattr(path, NULL, 0);
    if (size <= 0) break;
    free(names);
    names = malloc((size_t)size);
    if (!names) break;
    size = llistxattr(path, names, (size_t)size);
    if (size >= 0 || errno != ERANGE) break;
  }
  if (size > 0 && !names) {
    napi_throw_error(env, "ENOMEM", "llistxattr: out of memory");
    goto done;
  }
  if (size < 0) {
    if (errno == ENOTSUP) size = 0;
    else {
      throw_errno(env, "llistxattr", errno);
      goto done;
    }
  }
  if (napi_create_array(env, &result) != napi_ok) goto done;
  uint32_t count = 0;
  for (ssize_t at = 0; at < size; at += (ssize_t)strlen(names + at) + 1) {
    const char *name = names + at;
    ssize_t length = -1;
    for (int attempt = 0; attempt < 8; attempt++) {
      length = lgetxattr(path, name, NULL, 0);
      if (length < 0) break;
      free(value);
      value = malloc(length > 0 ? (size_t)length : 1);
      if (!value) break;
      length = lgetxattr(path, name, value, (size_t)length);
      if (length >= 0 || errno != ERANGE) break;
    }
    if (length >= 0 && !value) {
      napi_throw_error(env, "ENOMEM", "lgetxattr: out of memory");
      result = NULL;
      goto done;
    }
    if (length < 0) {
      if (errno == ENODATA) continue; // removed since it was listed
      result = throw_errno(env, "lgetxattr", errno);
      goto done;
    }
    napi_value js_name, js_value;
    if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &js_name) != napi_ok ||
        napi_create_buffer_copy(env, (size_t)length, value, NULL, &js_value) != napi_ok ||
        napi_set_element(env, result, count++, js_name) != napi_ok ||
        napi_set_element(env, result, count++, js_value) != napi_ok) {
      result = NULL;
      goto done;
    }
  }
done:
  free(path);
  free(names);
  free(value);
  return result;
}

#endif

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_value fn;
  if (napi_create_function(env, "dataRegions", NAPI_AUTO_LENGTH, data_regions, NULL, &fn) != napi_ok ||
      napi_set_named_property(env, exports, "dataRegions", fn) != napi_ok) {
    return NULL;
  }
#ifdef __linux__
  // Linux only: macOS and FreeBSD spell these calls differently.
  napi_value list;
  if (napi_create_function(env, "listXattrs", NAPI_AUTO_LENGTH, list_xattrs, NULL, &list) != napi_ok ||
      napi_set_named_property(env, exports, "listXattrs", list) != napi_ok) {
    return NULL;
  }
#endif
  if (!register_file_ranges(env, exports)) return NULL;
  return exports;
}
