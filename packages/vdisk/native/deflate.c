// Raw deflate of qcow2 clusters with the system's zlib, on libuv's thread
// pool: the same library and settings as QEMU's qcow2 (so the same bytes as
// qemu-img on this machine), several clusters at once. Node's own zlib is
// Chromium's fork, whose streams come out ~2% longer at the same settings.
//
// The library is opened with dlopen, not linked: the node binary exports its
// own zlib's symbols, which would win over a linked libz's. RTLD_DEEPBIND
// (glibc) makes the library's calls among its own functions stay inside it.
#include <dlfcn.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#ifndef RTLD_DEEPBIND
#define RTLD_DEEPBIND 0
#endif
#ifdef __APPLE__
#define LIBZ_NAME "libz.1.dylib"
#else
#define LIBZ_NAME "libz.so.1"
#endif

static struct {
  int (*init)(z_streamp, int, int, int, int, int, const char *, int);
  int (*deflate)(z_streamp, int);
  int (*end)(z_streamp);
  const char *(*version)(void);
} z;

/** Opens the system's zlib once; 0 if it is not there. */
static int load_zlib(void) {
  if (z.init) return 1;
  void *lib = dlopen(LIBZ_NAME, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!lib) return 0;
  z.init = (int (*)(z_streamp, int, int, int, int, int, const char *, int))dlsym(lib, "deflateInit2_");
  z.deflate = (int (*)(z_streamp, int))dlsym(lib, "deflate");
  z.end = (int (*)(z_streamp))dlsym(lib, "deflateEnd");
  z.version = (const char *(*)(void))dlsym(lib, "zlibVersion");
  if (!z.init || !z.deflate || !z.end || !z.version) {
    z.init = NULL;
    return 0;
  }
  return 1;
}

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input_ref;  // keeps the input alive while a pool thread reads it
  const uint8_t *input;
  size_t length;
  uint8_t *output;
  size_t output_length;
  size_t limit;
  int level;
  int window_bits;
  int mem_level;
  int status;  // Z_OK: fits; Z_BUF_ERROR: not under `limit` bytes; else zlib's error
} deflate_job;

static void run_deflate(napi_env env, void *data) {
  (void)env;
  deflate_job *job = data;
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  job->status = z.init(&zs, job->level, Z_DEFLATED, job->window_bits, job->mem_level,
                       Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(z_stream));
  if (job->status != Z_OK) return;
  job->output = malloc(job->limit ? job->limit : 1);
  if (!job->output) {
    z.end(&zs);
    job->status = Z_MEM_ERROR;
    return;
  }
  zs.next_in = (Bytef *)job->input;
  zs.avail_in = (uInt)job->length;
  zs.next_out = job->output;
  zs.avail_out = (uInt)job->limit;
  int r = z.deflate(&zs, Z_FINISH);
  // As QEMU: a stream that does not end within the room is not worth keeping.
  job->status = r == Z_STREAM_END ? Z_OK : (r == Z_OK || r == Z_BUF_ERROR ? Z_BUF_ERROR : r);
  job->output_length = job->limit - zs.avail_out;
  z.end(&zs);
}

static void settle(napi_env env, napi_status status, void *data) {
  deflate_job *job = data;
  napi_value result;
  if (status == napi_ok && job->status == Z_OK) {
    void *copy;
    napi_create_buffer_copy(env, job->output_length, job->output, &copy, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else if (status == napi_ok && job->status == Z_BUF_ERROR) {
    napi_get_null(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    napi_value message;
    const char *text = status != napi_ok         ? "deflate was cancelled"
                       : job->status == Z_MEM_ERROR ? "deflate: out of memory"
                                                    : "deflate failed (bad level, window or memory level?)";
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, job->deferred, result);
  }
  napi_delete_reference(env, job->input_ref);
  napi_delete_async_work(env, job->work);
  free(job->output);
  free(job);
}

static int32_t int_arg(napi_env env, napi_value value) {
  int32_t n = 0;
  napi_get_value_int32(env, value, &n);
  return n;
}

// deflateRaw(data: Uint8Array, limit, level, windowBits, memLevel): Promise<Buffer | null>
// null when the stream does not fit in `limit` bytes.
static napi_value deflate_raw(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_typed = false;
  if (argc < 5 || napi_is_typedarray(env, argv[0], &is_typed) != napi_ok || !is_typed) {
    napi_throw_type_error(env, NULL, "deflateRaw(data, limit, level, windowBits, memLevel)");
    return NULL;
  }
  napi_typedarray_type type;
  size_t count;
  void *bytes;
  napi_value buffer;
  size_t offset;
  napi_get_typedarray_info(env, argv[0], &type, &count, &bytes, &buffer, &offset);
  if (type != napi_uint8_array) {
    napi_throw_type_error(env, NULL, "deflateRaw: data must be a Uint8Array");
    return NULL;
  }
  int32_t limit = int_arg(env, argv[1]);
  if (limit < 0 || count > 0x7fffffff) {
    napi_throw_range_error(env, NULL, "deflateRaw: bad limit or data length");
    return NULL;
  }
  deflate_job *job = calloc(1, sizeof *job);
  if (!job) {
    napi_throw_error(env, NULL, "deflateRaw: out of memory");
    return NULL;
  }
  job->input = bytes;
  job->length = count;
  job->limit = (size_t)limit;
  job->level = int_arg(env, argv[2]);
  job->window_bits = int_arg(env, argv[3]);
  job->mem_level = int_arg(env, argv[4]);
  napi_value promise, name;
  napi_create_reference(env, argv[0], 1, &job->input_ref);
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "bigfile:deflateRaw", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, run_deflate, settle, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

// Without the system's zlib the exports are empty: the package uses Node's.
static napi_value init(napi_env env, napi_value exports) {
  if (!load_zlib()) return exports;
  napi_value fn, version;
  napi_create_function(env, "deflateRaw", NAPI_AUTO_LENGTH, deflate_raw, NULL, &fn);
  napi_set_named_property(env, exports, "deflateRaw", fn);
  napi_create_string_utf8(env, z.version(), NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "zlibVersion", version);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
