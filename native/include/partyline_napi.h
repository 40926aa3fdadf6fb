/*
 * The N-API helpers both addons (native/opus, native/portaudio) use: argument checks that throw a coded error naming
 * the argument, tagged external handles, and CHECK_NAPI. Plain C N-API only, so both .node files stay ABI-stable.
 *
 * An addon defines PL_BAD_ARG_CODE (the code its JavaScript side maps for a bad argument) before including this.
 */
#ifndef PARTYLINE_NAPI_H
#define PARTYLINE_NAPI_H

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifndef PL_BAD_ARG_CODE
#error "define PL_BAD_ARG_CODE before including partyline_napi.h"
#endif

/* Throws unless an exception is already pending (the first, more precise one wins). */
static inline void throw_pending_or(napi_env env, const char *code, const char *message) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, code, message);
}

/* In a function returning napi_value: a failed N-API call throws and returns NULL. */
#define CHECK_NAPI(call)                                              \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      throw_pending_or(env, "internal", "N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static inline bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    throw_pending_or(env, PL_BAD_ARG_CODE, "too few arguments");
    return false;
  }
  return true;
}

static inline bool throw_bad_arg(napi_env env, const char *name, const char *must_be) {
  char message[128];
  snprintf(message, sizeof message, "%s must be %s", name, must_be);
  throw_pending_or(env, PL_BAD_ARG_CODE, message);
  return false;
}

static inline bool get_int32(napi_env env, napi_value value, const char *name, int32_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_int32(env, value, out) != napi_ok) {
    return throw_bad_arg(env, name, "a number");
  }
  return true;
}

static inline bool get_uint32(napi_env env, napi_value value, const char *name, uint32_t *out) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_uint32(env, value, out) != napi_ok) {
    return throw_bad_arg(env, name, "a number");
  }
  return true;
}

/* The data and element count of a typed array of the wanted type (Int16Array or Uint8Array). */
static inline bool get_typed(napi_env env, napi_value value, napi_typedarray_type want, const char *name, void **data,
                             size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, data, NULL, NULL) != napi_ok || type != want) {
    return throw_bad_arg(env, name, want == napi_int16_array ? "an Int16Array" : "a Uint8Array");
  }
  return true;
}

/* The native object behind a handle made by make_handle with `tag`, or NULL with `code`/`message` thrown. */
static inline void *unwrap_tagged(napi_env env, napi_value handle, const napi_type_tag *tag, const char *code,
                                  const char *message) {
  bool matches = false;
  void *data = NULL;
  if (napi_check_object_type_tag(env, handle, tag, &matches) != napi_ok || !matches ||
      napi_get_value_external(env, handle, &data) != napi_ok || data == NULL) {
    throw_pending_or(env, code, message);
    return NULL;
  }
  return data;
}

#endif
