/*
 * Minimal Opus binding for the playout buffer: an encoder with in-band FEC
 * control, and a decoder that can conceal or FEC-recover exactly one frame
 * (which @discordjs/opus cannot: it always decodes with decode_fec=0 and a
 * 120 ms frame size).
 *
 * Native objects are N-API externals, type-tagged so a handle of the wrong
 * kind is refused instead of misread, and freed by their finalizer.
 * Argument validation with field names lives in the TypeScript wrapper; this
 * layer only guards memory safety and maps libopus errors to error codes.
 * No static state: the module is context-aware (worker_threads, Electron).
 */
#define PL_BAD_ARG_CODE "bad-arg"
#include "partyline_napi.h"
#include <opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLE_RATE 48000
/* 120 ms at 48 kHz: the longest Opus packet. */
#define MAX_FRAME_SAMPLES 5760
#define MAX_CHANNELS 2
/* RFC 6716 caps one frame at 1275 bytes; a 120 ms packet holds up to 6. */
#define MAX_PACKET_BYTES (1275 * 6 + 7)

typedef struct {
  OpusEncoder *encoder;
  int channels;
  int64_t external_bytes;
} Encoder;

typedef struct {
  OpusDecoder *decoder;
  int channels;
  int64_t external_bytes;
  /* Decoded into first so the returned array has exactly the decoded length. */
  opus_int16 scratch[MAX_FRAME_SAMPLES * MAX_CHANNELS];
} Decoder;

static const napi_type_tag ENCODER_TAG = {0x5f1c0a3e9b2d4c71ULL, 0x8e6a1f0b3c2d4e5fULL};
static const napi_type_tag DECODER_TAG = {0x2b7d9e4f1a3c5e60ULL, 0x9d8c7b6a5f4e3d2cULL};

static napi_value throw_code(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static const char *code_for_opus_error(int err) {
  switch (err) {
    case OPUS_INVALID_PACKET:
    case OPUS_BUFFER_TOO_SMALL: /* a packet longer than 120 ms is malformed */
      return "corrupt-packet";
    case OPUS_BAD_ARG:
      return "bad-arg";
    default:
      return "internal";
  }
}

static napi_value throw_opus(napi_env env, const char *what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s (libopus %d)", what, opus_strerror(err), err);
  return throw_code(env, code_for_opus_error(err), message);
}

static napi_value make_handle(napi_env env, void *data, napi_finalize finalize,
                              const napi_type_tag *tag, int64_t external_bytes) {
  /* Tell the GC what the handle holds, so dropped codecs are collected promptly.
     The finalizer gives it back. */
  int64_t ignored;
  napi_adjust_external_memory(env, external_bytes, &ignored);
  napi_value handle;
  if (napi_create_external(env, data, finalize, NULL, &handle) != napi_ok) {
    finalize(env, data, NULL);
    throw_pending_or(env, "internal", "could not create native handle");
    return NULL;
  }
  CHECK_NAPI(napi_type_tag_object(env, handle, tag));
  return handle;
}

/* ---- encoder ---- */

static void finalize_encoder(napi_env env, void *data, void *hint) {
  Encoder *self = data;
  int64_t ignored;
  if (env != NULL) napi_adjust_external_memory(env, -self->external_bytes, &ignored);
  opus_encoder_destroy(self->encoder);
  free(self);
}

/* createEncoder(channels, application: 0 voip | 1 audio | 2 lowdelay) */
static napi_value create_encoder(napi_env env, napi_callback_info info) {
  static const int applications[] = {OPUS_APPLICATION_VOIP, OPUS_APPLICATION_AUDIO,
                                     OPUS_APPLICATION_RESTRICTED_LOWDELAY};
  napi_value argv[2];
  int32_t channels, application;
  if (!get_args(env, info, 2, argv) || !get_int32(env, argv[0], "channels", &channels) ||
      !get_int32(env, argv[1], "application", &application))
    return NULL;
  if (channels < 1 || channels > MAX_CHANNELS) return throw_code(env, "bad-arg", "channels must be 1 or 2");
  if (application < 0 || application > 2) return throw_code(env, "bad-arg", "unknown application");

  Encoder *self = calloc(1, sizeof *self);
  if (self == NULL) return throw_code(env, "internal", "out of memory");
  int err = OPUS_OK;
  self->encoder = opus_encoder_create(SAMPLE_RATE, channels, applications[application], &err);
  if (err != OPUS_OK) {
    free(self);
    return throw_opus(env, "opus_encoder_create", err);
  }
  self->channels = channels;
  self->external_bytes = sizeof *self + opus_encoder_get_size(channels);
  return make_handle(env, self, finalize_encoder, &ENCODER_TAG, self->external_bytes);
}

/* encoderSet(handle, setting: 0 bitrate | 1 fec | 2 lossPercent | 3 dtx | 4 complexity, value) */
static napi_value encoder_set(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t setting, value;
  if (!get_args(env, info, 3, argv)) return NULL;
  Encoder *self = unwrap_tagged(env, argv[0], &ENCODER_TAG, "bad-arg", "not a live encoder handle");
  if (self == NULL || !get_int32(env, argv[1], "setting", &setting) ||
      !get_int32(env, argv[2], "value", &value))
    return NULL;
  int err;
  switch (setting) {
    case 0: err = opus_encoder_ctl(self->encoder, OPUS_SET_BITRATE(value)); break;
    case 1: err = opus_encoder_ctl(self->encoder, OPUS_SET_INBAND_FEC(value)); break;
    case 2: err = opus_encoder_ctl(self->encoder, OPUS_SET_PACKET_LOSS_PERC(value)); break;
    case 3: err = opus_encoder_ctl(self->encoder, OPUS_SET_DTX(value)); break;
    case 4: err = opus_encoder_ctl(self->encoder, OPUS_SET_COMPLEXITY(value)); break;
    default: return throw_code(env, "bad-arg", "unknown encoder setting");
  }
  if (err != OPUS_OK) return throw_opus(env, "opus_encoder_ctl", err);
  return NULL;
}

/* encode(handle, pcm: Int16Array of interleaved samples) -> Buffer */
static napi_value encode(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  Encoder *self = unwrap_tagged(env, argv[0], &ENCODER_TAG, "bad-arg", "not a live encoder handle");
  void *pcm;
  size_t length;
  if (self == NULL || !get_typed(env, argv[1], napi_int16_array, "pcm", &pcm, &length)) return NULL;
  if (length == 0 || length % self->channels != 0 || length / self->channels > MAX_FRAME_SAMPLES)
    return throw_code(env, "bad-frame", "pcm length is not a whole Opus frame");

  unsigned char packet[MAX_PACKET_BYTES];
  int bytes = opus_encode(self->encoder, pcm, (int)(length / self->channels), packet, sizeof packet);
  if (bytes < 0) {
    return bytes == OPUS_BAD_ARG
               ? throw_code(env, "bad-frame", "pcm length is not a valid Opus frame duration")
               : throw_opus(env, "opus_encode", bytes);
  }
  napi_value result;
  CHECK_NAPI(napi_create_buffer_copy(env, (size_t)bytes, packet, NULL, &result));
  return result;
}

/* ---- decoder ---- */

static void finalize_decoder(napi_env env, void *data, void *hint) {
  Decoder *self = data;
  int64_t ignored;
  if (env != NULL) napi_adjust_external_memory(env, -self->external_bytes, &ignored);
  opus_decoder_destroy(self->decoder);
  free(self);
}

/* createDecoder(channels) */
static napi_value create_decoder(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t channels;
  if (!get_args(env, info, 1, argv) || !get_int32(env, argv[0], "channels", &channels)) return NULL;
  if (channels < 1 || channels > MAX_CHANNELS) return throw_code(env, "bad-arg", "channels must be 1 or 2");

  Decoder *self = malloc(sizeof *self);
  if (self == NULL) return throw_code(env, "internal", "out of memory");
  int err = OPUS_OK;
  self->decoder = opus_decoder_create(SAMPLE_RATE, channels, &err);
  if (err != OPUS_OK) {
    free(self);
    return throw_opus(env, "opus_decoder_create", err);
  }
  self->channels = channels;
  self->external_bytes = sizeof *self + opus_decoder_get_size(channels);
  return make_handle(env, self, finalize_decoder, &DECODER_TAG, self->external_bytes);
}

static napi_value samples_to_int16array(napi_env env, const opus_int16 *samples, size_t count) {
  napi_value buffer, result;
  void *data;
  CHECK_NAPI(napi_create_arraybuffer(env, count * sizeof(opus_int16), &data, &buffer));
  memcpy(data, samples, count * sizeof(opus_int16));
  CHECK_NAPI(napi_create_typedarray(env, napi_int16_array, count, buffer, 0, &result));
  return result;
}

/*
 * decode(handle, payload: Uint8Array | null, frameSamples, fec: boolean) -> Int16Array
 *   payload, frameSamples = 0, fec false: normal decode of the whole packet
 *   payload, frameSamples = n, fec true:  recover the lost n-sample frame before payload
 *   null,    frameSamples = n:            conceal n samples (PLC)
 */
static napi_value decode(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv)) return NULL;
  Decoder *self = unwrap_tagged(env, argv[0], &DECODER_TAG, "bad-arg", "not a live decoder handle");
  if (self == NULL) return NULL;

  napi_valuetype payload_type;
  CHECK_NAPI(napi_typeof(env, argv[1], &payload_type));
  void *payload = NULL;
  size_t payload_bytes = 0;
  if (payload_type != napi_null &&
      !get_typed(env, argv[1], napi_uint8_array, "payload", &payload, &payload_bytes))
    return NULL;
  if (payload_type != napi_null && payload_bytes == 0)
    return throw_code(env, "corrupt-packet", "empty payload (an Opus packet has at least a TOC byte)");

  int32_t frame_samples;
  bool fec = false;
  if (!get_int32(env, argv[2], "frameSamples", &frame_samples)) return NULL;
  CHECK_NAPI(napi_get_value_bool(env, argv[3], &fec));
  if (frame_samples < 0 || frame_samples > MAX_FRAME_SAMPLES ||
      ((payload == NULL || fec) && frame_samples == 0))
    return throw_code(env, "bad-arg", "frameSamples out of range");

  int capacity = frame_samples > 0 ? frame_samples : MAX_FRAME_SAMPLES;
  int decoded = opus_decode(self->decoder, payload, (opus_int32)payload_bytes, self->scratch,
                            capacity, fec ? 1 : 0);
  if (decoded < 0) return throw_opus(env, payload == NULL ? "opus_decode (conceal)" : "opus_decode", decoded);
  return samples_to_int16array(env, self->scratch, (size_t)decoded * self->channels);
}

/* lastPacketDuration(handle) -> samples per channel */
static napi_value last_packet_duration(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Decoder *self = unwrap_tagged(env, argv[0], &DECODER_TAG, "bad-arg", "not a live decoder handle");
  if (self == NULL) return NULL;
  opus_int32 duration = 0;
  int err = opus_decoder_ctl(self->decoder, OPUS_GET_LAST_PACKET_DURATION(&duration));
  if (err != OPUS_OK) return throw_opus(env, "opus_decoder_ctl", err);
  napi_value result;
  CHECK_NAPI(napi_create_int32(env, duration, &result));
  return result;
}

/* packetSamples(payload) -> samples per channel at 48 kHz */
static napi_value packet_samples(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *payload;
  size_t bytes;
  if (!get_args(env, info, 1, argv) ||
      !get_typed(env, argv[0], napi_uint8_array, "payload", &payload, &bytes))
    return NULL;
  if (bytes == 0) return throw_code(env, "corrupt-packet", "empty payload (an Opus packet has at least a TOC byte)");
  int samples = opus_packet_get_nb_samples(payload, (opus_int32)bytes, SAMPLE_RATE);
  if (samples < 0) return throw_opus(env, "opus_packet_get_nb_samples", samples);
  if (samples > MAX_FRAME_SAMPLES)
    return throw_code(env, "corrupt-packet", "packet claims more than 120 ms of audio");
  napi_value result;
  CHECK_NAPI(napi_create_int32(env, samples, &result));
  return result;
}

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"createEncoder", NULL, create_encoder, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encoderSet", NULL, encoder_set, NULL, NULL, NULL, napi_enumerable, NULL},
      {"encode", NULL, encode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"createDecoder", NULL, create_decoder, NULL, NULL, NULL, napi_enumerable, NULL},
      {"decode", NULL, decode, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lastPacketDuration", NULL, last_packet_duration, NULL, NULL, NULL, napi_enumerable, NULL},
      {"packetSamples", NULL, packet_samples, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok)
    return NULL;
  napi_value version;
  const char *opus_version = opus_get_version_string();
  if (napi_create_string_utf8(env, opus_version, NAPI_AUTO_LENGTH, &version) == napi_ok)
    napi_set_named_property(env, exports, "libopusVersion", version);
  return exports;
}
