// What the addon's source files share: argument and error helpers
// (data_regions.c) and each file's registration.
#ifndef BIGFILE_ADDON_H
#define BIGFILE_ADDON_H
#include <node_api.h>
#include <sys/types.h>

// Offsets travel as doubles: exact up to 2^53, far beyond any file.
#define MAX_SAFE_OFFSET 9007199254740991.0

const char *errno_code(int error);
napi_value throw_errno(napi_env env, const char *what, int error);
// A non-negative integral double that fits an off_t, into *out; 0 if not.
int get_offset(napi_env env, napi_value value, off_t *out);
// Adds copyRange and nonZeroRuns (file_ranges.c) to exports; 0 on failure.
int register_file_ranges(napi_env env, napi_value exports);

#endif
