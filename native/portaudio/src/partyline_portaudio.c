/*
 * One direction of a sound device whose PortAudio callback never waits.
 *
 * naudiodon's callback blocks on a queue until JavaScript hands it the next chunk (and its capture callback blocks
 * when JavaScript has not read). A late event loop then holds the audio thread past ALSA's buffer: the device
 * underruns, PortAudio re-prepares it, and behind ALSA's pulse plugin that tears the PulseAudio stream down and
 * builds it again. A 25 ms hiccup of the event loop became hundreds of ms of silence.
 *
 * Here the callback only touches a single-producer single-consumer ring: a speaker plays what the ring holds and
 * a short fade then silence for the rest (an underrun, counted), a microphone drops what does not fit (an overrun, counted). After
 * each callback it pokes JavaScript through a thread-safe function, without waiting: JavaScript tops the ring up
 * or drains it on the device's clock.
 *
 * Plain C N-API, so one binary serves Node and Electron. Links the libportaudio.so.2 that naudiodon ships (one copy
 * in the process, one device list).
 */
/* clock_gettime and nanosleep under -std=c11 */
#define _POSIX_C_SOURCE 200809L
#ifdef __linux__
/* syscall(SYS_gettid) for the thread ids rtkit takes */
#define _DEFAULT_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#endif
#define PL_BAD_ARG_CODE "bad-arguments"
#include "partyline_napi.h"
#include <portaudio.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

/* PortAudio's front end is not thread-safe: its list of open streams and its initialization count are plain globals.
 * Streams close on libuv's threadpool (both of a station's at once when it stops) while others open or terminate on
 * the media thread: two closes at once corrupted the list, and the Pa_Terminate that then closed what was left on it
 * crashed. Every call that opens, closes, initializes or terminates holds this lock. Pa_AbortStream, which an
 * unplugged device may hold up for as long as it likes, does not: it touches its own stream only. */
static pthread_mutex_t pa_front;
static pthread_once_t pa_front_once = PTHREAD_ONCE_INIT;

/* Recursive: a stream's finalizer (which closes it) may run in a collection that an allocation inside an open
 * started, on the thread that holds the lock. */
static void pa_front_init(void) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&pa_front, &attr);
  pthread_mutexattr_destroy(&attr);
}

static void pa_front_lock(void) {
  pthread_once(&pa_front_once, pa_front_init);
  pthread_mutex_lock(&pa_front);
}

static void pa_front_unlock(void) { pthread_mutex_unlock(&pa_front); }

typedef enum { OPENED, STARTED, CLOSING, CLOSED } State;

/*
 * A speaker whose ring runs dry mid-chunk is not cut to zero (a click, then a hole): the waveform goes on backwards
 * from the last sample played (a mirror, so no step) and fades out over SMOOTH frames, and the audio that follows
 * the gap fades in over as many. 5 ms at 48 kHz: long enough not to click, short enough not to pass for audio.
 */
#define SMOOTH 240

typedef struct {
  PaStream *stream;
  int input;
  uint32_t chunk;
  uint32_t capacity;
  int16_t *ring;
  /* Monotonic frame counters: fill = wpos - rpos. Only the producer moves wpos, only the consumer rpos. */
  _Atomic uint64_t wpos;
  _Atomic uint64_t rpos;
  _Atomic uint64_t callbacks;
  _Atomic uint64_t underruns;
  _Atomic uint64_t overruns;
  _Atomic uint64_t xruns;
  _Atomic uint64_t missed_ticks;
  /* When the oldest callback JavaScript has not yet seen ran, in stream-clock microseconds (0: none pending). It
   * tells a late event loop (the callback waited for JavaScript) from a device catching up (callbacks in a clump). */
  _Atomic uint64_t unseen_since_us;
  /* Speaker: the least the ring held after a callback since the previous stats() (UINT64_MAX: no callback), and the
   * most one callback took. How deep the device drains the ring between two top-ups is what the margin must cover. */
  _Atomic uint64_t low_water;
  _Atomic uint64_t max_request;
  /* What the sound server buffers for this stream on its side, in frames, as of its latest callback (0: unknown).
   * Kept here by the server's thread so that reading it never takes the server's lock from JavaScript's. */
  _Atomic uint32_t server_frames;
  /* Speaker on a sound server: what the server asked for and the ring could not yet give, frames, left unwritten
   * while the server still holds enough (pulse_on_write). The ring's next audio goes there first. */
  _Atomic uint32_t server_owed;
  /* The kernel's id of the thread the device calls back on (0 until it has), for a real-time scheduling request. */
  _Atomic int64_t audio_tid;
  _Atomic int finished;
  /* Speaker only, touched by whichever thread serves the device (the audio thread, or JavaScript's holding libpulse's
   * lock in pulse_serve_owed): the last SMOOTH frames played, and how much of a fade-in after a gap is left. */
  int16_t tail[SMOOTH];
  uint32_t fade_in;
  napi_threadsafe_function tsfn;
  /* Set when the stream talks to PulseAudio natively (pulse_host.h) rather than through PortAudio. */
  struct PulseLink *pulse;
  int host_pulse;
  uint32_t rate;
  State state;
  /* The JavaScript handle was collected while a close was still running: the close frees it. */
  int orphaned;
  napi_async_work close_work;
  napi_deferred close_deferred;
} Ring;

static const napi_type_tag RING_TAG = {0x7a41c3e2d95b0f18ULL, 0x4c2e9a7b6d5f3e21ULL};

static void copy_in(Ring *r, uint64_t at, const int16_t *src, uint32_t frames) {
  uint32_t start = (uint32_t)(at % r->capacity);
  uint32_t first = r->capacity - start < frames ? r->capacity - start : frames;
  memcpy(r->ring + start, src, first * sizeof(int16_t));
  if (first < frames) memcpy(r->ring, src + first, (frames - first) * sizeof(int16_t));
}

static void copy_in_silence(Ring *r, uint64_t at, uint32_t frames) {
  uint32_t start = (uint32_t)(at % r->capacity);
  uint32_t first = r->capacity - start < frames ? r->capacity - start : frames;
  memset(r->ring + start, 0, first * sizeof(int16_t));
  if (first < frames) memset(r->ring, 0, (frames - first) * sizeof(int16_t));
}

static void copy_out(Ring *r, uint64_t at, int16_t *dst, uint32_t frames) {
  uint32_t start = (uint32_t)(at % r->capacity);
  uint32_t first = r->capacity - start < frames ? r->capacity - start : frames;
  memcpy(dst, r->ring + start, first * sizeof(int16_t));
  if (first < frames) memcpy(dst + first, r->ring, (frames - first) * sizeof(int16_t));
}

/* The i-th frame back from the end of what has been played, frames[0..n) of this callback being the newest. */
static int32_t played_back(const Ring *r, const int16_t *o, uint32_t n, uint32_t i) {
  if (i < n) return o[n - 1 - i];
  i -= n;
  return i < SMOOTH ? r->tail[SMOOTH - 1 - i] : 0;
}

static void fade_out_gap(Ring *r, int16_t *o, uint32_t n, uint32_t frames) {
  uint32_t gap = frames - n;
  uint32_t f = gap < SMOOTH ? gap : SMOOTH;
  for (uint32_t i = 0; i < f; i++) o[n + i] = (int16_t)(played_back(r, o, n, i) * (int32_t)(f - i) / (int32_t)f);
  memset(o + n + f, 0, (gap - f) * sizeof(int16_t));
  r->fade_in = SMOOTH;
}

static void fade_in_after_gap(Ring *r, int16_t *o, uint32_t n) {
  uint32_t m = n < r->fade_in ? n : r->fade_in;
  uint32_t done = SMOOTH - r->fade_in;
  for (uint32_t i = 0; i < m; i++) o[i] = (int16_t)((int32_t)o[i] * (int32_t)(done + i) / SMOOTH);
  r->fade_in -= m;
}

static void remember_tail(Ring *r, const int16_t *o, uint32_t frames) {
  if (frames >= SMOOTH) {
    memcpy(r->tail, o + frames - SMOOTH, SMOOTH * sizeof(int16_t));
  } else {
    memmove(r->tail, r->tail + frames, (SMOOTH - frames) * sizeof(int16_t));
    memcpy(r->tail + SMOOTH - frames, o, frames * sizeof(int16_t));
  }
}

/* The monotonic clock, read the same way on the device's thread and on JavaScript's. Not Pa_GetStreamTime: behind
 * ALSA's pulse plugin that is snd_pcm_status, which takes the PCM's and the plugin's locks and can wait as long as the
 * device thread holds them (an xrun recovery waits on the sound server); JavaScript must never wait on the device. */
static uint64_t monotonic_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u + 1;
}

/* On the device's thread: tells JavaScript that the device came for audio. */
static void ring_tick(Ring *r) {
  atomic_fetch_add(&r->callbacks, 1);
#ifdef __linux__
  if (atomic_load_explicit(&r->audio_tid, memory_order_relaxed) == 0) atomic_store(&r->audio_tid, (int64_t)syscall(SYS_gettid));
#endif
  uint64_t none = 0;
  atomic_compare_exchange_strong(&r->unseen_since_us, &none, monotonic_us());
  if (napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking) != napi_ok)
    atomic_fetch_add(&r->missed_ticks, 1);
}

/* Moves `frames` between the device and the ring, on whichever thread serves the device at the time. */
static void ring_transfer(Ring *r, const void *in, void *out, uint32_t frames, int host_xrun) {
  if (host_xrun) atomic_fetch_add(&r->xruns, 1);
  if (r->input) {
    uint64_t w = atomic_load_explicit(&r->wpos, memory_order_relaxed);
    uint64_t rd = atomic_load_explicit(&r->rpos, memory_order_acquire);
    if (in == NULL && r->pulse == NULL) {
      /* PortAudio called without input: nothing came. */
    } else if (r->capacity - (w - rd) < frames) {
      atomic_fetch_add(&r->overruns, 1);
    } else {
      /* PulseAudio marks a hole in a recording with no data: it is silence, and keeps the timeline. */
      if (in != NULL) copy_in(r, w, in, frames);
      else copy_in_silence(r, w, frames);
      atomic_store_explicit(&r->wpos, w + frames, memory_order_release);
    }
  } else {
    uint64_t rd = atomic_load_explicit(&r->rpos, memory_order_relaxed);
    uint64_t w = atomic_load_explicit(&r->wpos, memory_order_acquire);
    uint64_t avail = w - rd;
    uint32_t n = avail < frames ? (uint32_t)avail : frames;
    int16_t *o = out;
    copy_out(r, rd, o, n);
    if (n > 0 && r->fade_in > 0) fade_in_after_gap(r, o, n);
    if (n < frames) {
      fade_out_gap(r, o, n, frames);
      atomic_fetch_add(&r->underruns, 1);
    }
    remember_tail(r, o, frames);
    atomic_store_explicit(&r->rpos, rd + n, memory_order_release);
    uint64_t left = avail - n;
    uint64_t low = atomic_load_explicit(&r->low_water, memory_order_relaxed);
    while (left < low && !atomic_compare_exchange_weak(&r->low_water, &low, left));
    uint64_t most = atomic_load_explicit(&r->max_request, memory_order_relaxed);
    while (frames > most && !atomic_compare_exchange_weak(&r->max_request, &most, frames));
  }
}

/*
 * One device callback's worth of audio, from whichever host: a microphone's frames into the ring, or a speaker's
 * out of it, then a tick to JavaScript. Never waits.
 */
static void ring_callback(Ring *r, const void *in, void *out, uint32_t frames, int host_xrun) {
  ring_transfer(r, in, out, frames, host_xrun);
  ring_tick(r);
}

static int on_audio(const void *in, void *out, unsigned long count, const PaStreamCallbackTimeInfo *time,
                    PaStreamCallbackFlags flags, void *user) {
  Ring *r = user;
  ring_callback(r, in, out, (uint32_t)count, (flags & (paInputOverflow | paOutputUnderflow)) != 0);
  return paContinue;
}

/* The stream ended without being asked (the device went away): JavaScript learns it from the next tick. */
static void on_finished(void *user) {
  Ring *r = user;
  atomic_store(&r->finished, 1);
  napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking);
}

static void call_tick(napi_env env, napi_value js_callback, void *context, void *data) {
  if (env == NULL || js_callback == NULL) return;
  napi_value undefined;
  if (napi_get_undefined(env, &undefined) != napi_ok) return;
  napi_call_function(env, undefined, js_callback, 0, NULL, NULL);
}

static void free_ring(Ring *r) {
  free(r->ring);
  free(r);
}

#ifdef __linux__
static void pulse_close(struct PulseLink *l);
#endif

static void finalize_ring(napi_env env, void *data, void *hint) {
  Ring *r = data;
  if (r->state == CLOSING) {
    r->orphaned = 1;
    return;
  }
#ifdef __linux__
  if (r->host_pulse && r->state != CLOSED) {
    pulse_close(r->pulse);
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    free_ring(r);
    return;
  }
#endif
  if (r->state != CLOSED && r->stream != NULL) {
    Pa_AbortStream(r->stream);
    pa_front_lock();
    Pa_CloseStream(r->stream);
    Pa_Terminate();
    pa_front_unlock();
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
  }
  free_ring(r);
}

/*
 * A ring of `ring_chunks` chunks for one direction, with the thread-safe function that ticks `on_tick`, or NULL with
 * an exception pending. Whichever host it serves, it starts out OPENED.
 */
static Ring *new_ring(napi_env env, bool input, uint32_t chunk, uint32_t ring_chunks, uint32_t rate, napi_value on_tick, const char *tick_name) {
  Ring *r = calloc(1, sizeof(Ring));
  if (r != NULL) r->ring = calloc((size_t)chunk * ring_chunks, sizeof(int16_t));
  if (r == NULL || r->ring == NULL) {
    if (r != NULL) free(r);
    napi_throw_error(env, "internal", "out of memory");
    return NULL;
  }
  r->input = input;
  r->chunk = chunk;
  r->capacity = chunk * ring_chunks;
  r->rate = rate;
  r->state = OPENED;
  atomic_store(&r->low_water, UINT64_MAX);
  napi_value name;
  if (napi_create_string_utf8(env, tick_name, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_threadsafe_function(env, on_tick, NULL, name, 4, 1, NULL, NULL, NULL, call_tick, &r->tsfn) != napi_ok) {
    free_ring(r);
    throw_pending_or(env, "bad-arguments", "onTick must be a function");
    return NULL;
  }
  return r;
}

/* The JavaScript handle for a ring whose stream is open: false with an exception pending if it cannot be made. */
static bool wrap_ring(napi_env env, Ring *r, napi_value *handle) {
  if (napi_create_external(env, r, finalize_ring, NULL, handle) == napi_ok && napi_type_tag_object(env, *handle, &RING_TAG) == napi_ok) return true;
  throw_pending_or(env, "internal", "cannot create the stream handle");
  return false;
}

#include "pulse_host.h"

static napi_value throw_pa(napi_env env, const char *what, PaError err) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s", what, Pa_GetErrorText(err));
  napi_throw_error(env, err == paInvalidSampleRate ? "unsupported-rate" : "open-failed", message);
  return NULL;
}

/* open(input, deviceIndex, sampleRate, chunkFrames, ringChunks, onTick, suggestedLatencySeconds, periodFrames)
 *   -> handle
 * A suggested latency of 0 takes the device's default low latency. The device period (frames per callback) may be
 * shorter than the chunk JavaScript works in: ALSA buffers two periods, so a 5 ms period under 10 ms chunks takes
 * 10 ms off each direction. */
static napi_value open_stream_locked(napi_env env, napi_callback_info info);

static napi_value open_stream(napi_env env, napi_callback_info info) {
  pa_front_lock();
  napi_value handle = open_stream_locked(env, info);
  pa_front_unlock();
  return handle;
}

static napi_value open_stream_locked(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!get_args(env, info, 8, argv)) return NULL;
  uint32_t period;
  if (!get_uint32(env, argv[7], "periodFrames", &period)) return NULL;
  double suggested = 0;
  if (napi_get_value_double(env, argv[6], &suggested) != napi_ok || suggested < 0 || suggested > 1) {
    throw_pending_or(env, "bad-arguments", "suggestedLatencySeconds must be a number from 0 to 1");
    return NULL;
  }
  bool input;
  uint32_t device, rate, chunk, ring_chunks;
  if (napi_get_value_bool(env, argv[0], &input) != napi_ok) {
    throw_pending_or(env, "bad-arguments", "input must be a boolean");
    return NULL;
  }
  if (!get_uint32(env, argv[1], "deviceIndex", &device) || !get_uint32(env, argv[2], "sampleRate", &rate) ||
      !get_uint32(env, argv[3], "chunkFrames", &chunk) || !get_uint32(env, argv[4], "ringChunks", &ring_chunks))
    return NULL;
  if (period == 0) period = chunk;
  if (chunk == 0 || chunk > 48000 || ring_chunks < 2 || ring_chunks > 64 || period > chunk) {
    napi_throw_range_error(env, "bad-arguments", "chunkFrames must be 1..48000, ringChunks 2..64, periodFrames at most chunkFrames");
    return NULL;
  }
  PaError err = Pa_Initialize();
  if (err != paNoError) return throw_pa(env, "Pa_Initialize", err);
  if ((int)device >= Pa_GetDeviceCount()) {
    Pa_Terminate();
    napi_throw_error(env, "open-failed", "no such device index");
    return NULL;
  }
  const PaDeviceInfo *dev = Pa_GetDeviceInfo((PaDeviceIndex)device);
  PaStreamParameters params;
  memset(&params, 0, sizeof params);
  params.device = (PaDeviceIndex)device;
  params.channelCount = 1;
  params.sampleFormat = paInt16;
  params.suggestedLatency = suggested > 0 ? suggested : input ? dev->defaultLowInputLatency : dev->defaultLowOutputLatency;
  err = Pa_IsFormatSupported(input ? &params : NULL, input ? NULL : &params, rate);
  if (err != paFormatIsSupported) {
    Pa_Terminate();
    return throw_pa(env, "format not supported", err);
  }

  Ring *r = new_ring(env, input, chunk, ring_chunks, rate, argv[5], "partyline-portaudio-tick");
  if (r == NULL) {
    Pa_Terminate();
    return NULL;
  }

  err = Pa_OpenStream(&r->stream, input ? &params : NULL, input ? NULL : &params, rate, period, paClipOff, on_audio, r);
  if (err != paNoError) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    free_ring(r);
    Pa_Terminate();
    return throw_pa(env, "could not open stream", err);
  }
  Pa_SetStreamFinishedCallback(r->stream, on_finished);

  napi_value handle;
  if (!wrap_ring(env, r, &handle)) {
    Pa_CloseStream(r->stream);
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    free_ring(r);
    Pa_Terminate();
    return NULL;
  }
  return handle;
}

#ifdef __linux__
/* openPulse(input, deviceName | null, sampleRate, chunkFrames, ringChunks, onTick, latencyFrames, periodFrames)
 *   -> handle, the same as open()'s: a stream on PulseAudio's native protocol (see pulse_host.h). */
static napi_value open_pulse(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!get_args(env, info, 8, argv)) return NULL;
  bool input;
  uint32_t rate, chunk, ring_chunks, latency, period;
  if (napi_get_value_bool(env, argv[0], &input) != napi_ok) {
    throw_pending_or(env, "bad-arguments", "input must be a boolean");
    return NULL;
  }
  char device[256] = "";
  napi_valuetype type;
  size_t length = 0;
  if (napi_typeof(env, argv[1], &type) != napi_ok || (type != napi_null && type != napi_string) ||
      (type == napi_string && (napi_get_value_string_utf8(env, argv[1], device, sizeof device, &length) != napi_ok || length == 0 || length >= sizeof device - 1))) {
    throw_pending_or(env, "bad-arguments", "deviceName must be a non-empty string under 255 bytes, or null");
    return NULL;
  }
  if (!get_uint32(env, argv[2], "sampleRate", &rate) || !get_uint32(env, argv[3], "chunkFrames", &chunk) ||
      !get_uint32(env, argv[4], "ringChunks", &ring_chunks) || !get_uint32(env, argv[6], "latencyFrames", &latency) ||
      !get_uint32(env, argv[7], "periodFrames", &period))
    return NULL;
  if (period == 0) period = chunk;
  if (rate < 8000 || rate > 192000 || chunk == 0 || chunk > 48000 || ring_chunks < 2 || ring_chunks > 64 || period > chunk || latency < period) {
    napi_throw_range_error(env, "bad-arguments", "sampleRate 8000..192000, chunkFrames 1..48000, ringChunks 2..64, periodFrames at most chunkFrames, latencyFrames at least periodFrames");
    return NULL;
  }
  Ring *r = new_ring(env, input, chunk, ring_chunks, rate, argv[5], "partyline-pulse-tick");
  if (r == NULL) return NULL;
  r->host_pulse = 1;
  char why[256];
  if (pulse_open(r, type == napi_string ? device : NULL, rate, latency, period, why, sizeof why) != 0) {
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    free_ring(r);
    napi_throw_error(env, strstr(why, "No such entity") ? "no-such-device" : strstr(why, "sound server") || strstr(why, "libpulse") ? "no-sound-server" : "open-failed", why);
    return NULL;
  }
  napi_value handle;
  if (!wrap_ring(env, r, &handle)) {
    pulse_close(r->pulse);
    napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
    free_ring(r);
    return NULL;
  }
  return handle;
}
#endif

static napi_value start_stream(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Ring *r = unwrap_tagged(env, argv[0], &RING_TAG, "bad-handle", "not a sound device stream handle");
  if (r == NULL) return NULL;
  if (r->state != OPENED) {
    napi_throw_error(env, "bad-state", "the stream was already started or closed");
    return NULL;
  }
#ifdef __linux__
  if (r->host_pulse) {
    pulse_start(r->pulse);
    r->state = STARTED;
    return NULL;
  }
#endif
  PaError err = Pa_StartStream(r->stream);
  if (err != paNoError) return throw_pa(env, "could not start stream", err);
  r->state = STARTED;
  return NULL;
}

/*
 * One side of the ring from JavaScript: a speaker's samples in (write), or a microphone's out (read). All of them
 * or none: JavaScript always moves whole pieces. The side it does not own (or a closing stream) moves nothing.
 */
static napi_value transfer(napi_env env, napi_callback_info info, int into_ring) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  Ring *r = unwrap_tagged(env, argv[0], &RING_TAG, "bad-handle", "not a sound device stream handle");
  int16_t *samples;
  size_t length;
  if (r == NULL || !get_typed(env, argv[1], napi_int16_array, "samples", (void **)&samples, &length)) return NULL;
  uint32_t n = 0;
  /* JavaScript produces into a speaker's ring and consumes from a microphone's. */
  if (r->input != into_ring && r->state < CLOSING) {
    _Atomic uint64_t *own = into_ring ? &r->wpos : &r->rpos;
    _Atomic uint64_t *other = into_ring ? &r->rpos : &r->wpos;
    uint64_t mine = atomic_load_explicit(own, memory_order_relaxed);
    uint64_t theirs = atomic_load_explicit(other, memory_order_acquire);
    uint64_t room = into_ring ? r->capacity - (mine - theirs) : theirs - mine;
    if (length <= room) {
      n = (uint32_t)length;
      if (into_ring) copy_in(r, mine, samples, n);
      else copy_out(r, mine, samples, n);
      atomic_store_explicit(own, mine + n, memory_order_release);
    }
  }
  napi_value result;
  CHECK_NAPI(napi_create_uint32(env, n, &result));
  return result;
}

/* write(handle, samples) -> frames taken: all of them, or none when they do not fit */
static napi_value write_samples(napi_env env, napi_callback_info info) { return transfer(env, info, 1); }

/* read(handle, into) -> frames copied: a whole `into`, or none when fewer are there */
static napi_value read_samples(napi_env env, napi_callback_info info) { return transfer(env, info, 0); }

/* fill(handle) -> frames in the ring */
static napi_value fill(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Ring *r = unwrap_tagged(env, argv[0], &RING_TAG, "bad-handle", "not a sound device stream handle");
  if (r == NULL) return NULL;
  napi_value result;
  CHECK_NAPI(napi_create_uint32(env, (uint32_t)(atomic_load(&r->wpos) - atomic_load(&r->rpos)), &result));
  return result;
}

static bool set_number(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  return napi_create_double(env, value, &v) == napi_ok && napi_set_named_property(env, obj, key, v) == napi_ok;
}

/* stats(handle) -> { fill, callbacks, underruns, overruns, xruns, missedTicks, lowWater, maxRequest, tickLatencyMs, finished }
 * tickLatencyMs: how long the oldest callback since the previous stats() waited for this call (0 if none ran). */
static napi_value stats(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Ring *r = unwrap_tagged(env, argv[0], &RING_TAG, "bad-handle", "not a sound device stream handle");
  if (r == NULL) return NULL;
  napi_value obj, finished;
  CHECK_NAPI(napi_create_object(env, &obj));
  uint64_t fill = atomic_load(&r->wpos) - atomic_load(&r->rpos);
  if (!set_number(env, obj, "fill", (double)fill) || !set_number(env, obj, "callbacks", (double)atomic_load(&r->callbacks)) ||
      !set_number(env, obj, "underruns", (double)atomic_load(&r->underruns)) ||
      !set_number(env, obj, "overruns", (double)atomic_load(&r->overruns)) ||
      !set_number(env, obj, "xruns", (double)atomic_load(&r->xruns)) ||
      !set_number(env, obj, "missedTicks", (double)atomic_load(&r->missed_ticks))) {
    throw_pending_or(env, "internal", "cannot build the stats object");
    return NULL;
  }
  /* What the host API granted: the device's own buffering, beyond the ring. */
  double granted_ms = -1;
#ifdef __linux__
  uint32_t server_frames = atomic_load(&r->server_frames);
  if (r->host_pulse && server_frames > 0) granted_ms = 1000.0 * server_frames / r->rate;
#endif
  const PaStreamInfo *granted = !r->host_pulse && r->stream != NULL ? Pa_GetStreamInfo(r->stream) : NULL;
  if (granted != NULL) granted_ms = 1000 * (r->input ? granted->inputLatency : granted->outputLatency);
  if (granted_ms >= 0 && !set_number(env, obj, "deviceLatencyMs", granted_ms)) {
    throw_pending_or(env, "internal", "cannot build the stats object");
    return NULL;
  }
  if (!r->input && r->host_pulse && !set_number(env, obj, "deviceOwedFrames", (double)atomic_load(&r->server_owed))) {
    throw_pending_or(env, "internal", "cannot build the stats object");
    return NULL;
  }
  if (!set_number(env, obj, "threadId", (double)atomic_load(&r->audio_tid))) {
    throw_pending_or(env, "internal", "cannot build the stats object");
    return NULL;
  }
  uint64_t low = atomic_exchange(&r->low_water, UINT64_MAX);
  if (!set_number(env, obj, "lowWater", (double)(low == UINT64_MAX ? fill : low)) ||
      !set_number(env, obj, "maxRequest", (double)atomic_exchange(&r->max_request, 0))) {
    throw_pending_or(env, "internal", "cannot build the stats object");
    return NULL;
  }
  uint64_t since = atomic_exchange(&r->unseen_since_us, 0);
  uint64_t now = monotonic_us();
  if (!set_number(env, obj, "tickLatencyMs", since != 0 && now > since ? (double)(now - since) / 1000 : 0)) {
    throw_pending_or(env, "internal", "cannot build the stats object");
    return NULL;
  }
  CHECK_NAPI(napi_get_boolean(env, atomic_load(&r->finished) != 0, &finished));
  CHECK_NAPI(napi_set_named_property(env, obj, "finished", finished));
  return obj;
}

/* Off the event loop: an unplugged device can hold Pa_AbortStream for as long as the host API likes. */
static void close_execute(napi_env env, void *data) {
  Ring *r = data;
#ifdef __linux__
  if (r->host_pulse) {
    pulse_close(r->pulse);
    r->pulse = NULL;
    return;
  }
#endif
  Pa_AbortStream(r->stream);
  pa_front_lock();
  Pa_CloseStream(r->stream);
  pa_front_unlock();
}

static void close_complete(napi_env env, napi_status status, void *data) {
  Ring *r = data;
  /* Pa_Terminate on the main thread: naudiodon's device listing initializes PortAudio there too. */
  if (!r->host_pulse) {
    pa_front_lock();
    Pa_Terminate();
    pa_front_unlock();
  }
  r->stream = NULL;
  r->state = CLOSED;
  napi_release_threadsafe_function(r->tsfn, napi_tsfn_abort);
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_resolve_deferred(env, r->close_deferred, undefined);
  napi_delete_async_work(env, r->close_work);
  if (r->orphaned) free_ring(r);
}

/* close(handle) -> Promise<void>, resolved once PortAudio has let go of the device. */
static napi_value close_stream(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Ring *r = unwrap_tagged(env, argv[0], &RING_TAG, "bad-handle", "not a sound device stream handle");
  if (r == NULL) return NULL;
  napi_value promise;
  if (r->state >= CLOSING) {
    napi_throw_error(env, "bad-state", "the stream is already closing");
    return NULL;
  }
  napi_value name;
  CHECK_NAPI(napi_create_promise(env, &r->close_deferred, &promise));
  CHECK_NAPI(napi_create_string_utf8(env, "partyline-portaudio-close", NAPI_AUTO_LENGTH, &name));
  CHECK_NAPI(napi_create_async_work(env, NULL, name, close_execute, close_complete, r, &r->close_work));
  CHECK_NAPI(napi_queue_async_work(env, r->close_work));
  r->state = CLOSING;
  /* A tick must not keep the process alive once we are leaving. */
  napi_unref_threadsafe_function(env, r->tsfn);
  return promise;
}

#ifdef __linux__
/* threadId() -> the kernel's id of the calling thread (a worker thread's, called from it). */
static napi_value thread_id(napi_env env, napi_callback_info info) {
  napi_value result;
  CHECK_NAPI(napi_create_double(env, (double)syscall(SYS_gettid), &result));
  return result;
}

/* limitRealtime(usec): RLIMIT_RTTIME for this process, which rtkit requires before it grants a thread SCHED_RR: a
 * real-time thread that runs `usec` without sleeping is killed (the hard limit), so that it cannot freeze the machine.
 * At half of it (the soft limit) the kernel sends SIGXCPU first, which demotes a guarded thread (guardRealtime). */
static napi_value limit_realtime(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  uint32_t usec;
  if (!get_uint32(env, argv[0], "usec", &usec)) return NULL;
  struct rlimit rl = {usec / 2, usec};
  if (setrlimit(RLIMIT_RTTIME, &rl) != 0) {
    char message[128];
    snprintf(message, sizeof message, "setrlimit(RLIMIT_RTTIME) failed: errno %d", errno);
    napi_throw_error(env, "rlimit-refused", message);
  }
  return NULL;
}

/* Real-time threads that run JavaScript: a GC or a long task may keep one busy past the soft limit, and the kernel
 * then kills the process at the hard one. The signal handler puts it back to SCHED_OTHER (its nice value stays) at
 * once, without waiting for any event loop. The kernel delivers the signal to the thread that ran too long: only that
 * one is demoted, so a network burst leaves the media thread real-time. Landing on any other thread, it demotes all. */
#define GUARDED_MAX 8
static _Atomic int64_t guarded_tids[GUARDED_MAX];
static atomic_uint realtime_demotions;
static atomic_flag guard_installed = ATOMIC_FLAG_INIT;

static void demote(int64_t tid) {
  struct sched_param normal = {.sched_priority = 0};
  if (tid > 0 && syscall(SYS_sched_setscheduler, (pid_t)tid, SCHED_OTHER, &normal) == 0) atomic_fetch_add(&realtime_demotions, 1);
}

static void on_realtime_overrun(int signal) {
  (void)signal;
  int saved = errno;
  int64_t self = (int64_t)syscall(SYS_gettid);
  for (int i = 0; i < GUARDED_MAX; i++) {
    int64_t none = self;
    if (atomic_compare_exchange_strong(&guarded_tids[i], &none, 0)) {
      demote(self);
      errno = saved;
      return;
    }
  }
  for (int i = 0; i < GUARDED_MAX; i++) demote(atomic_exchange(&guarded_tids[i], 0));
  errno = saved;
}

/* guardRealtime(tid): thread `tid` of this process goes back to SCHED_OTHER at the first SIGXCPU (see above). */
static napi_value guard_realtime(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  uint32_t tid;
  if (!get_uint32(env, argv[0], "tid", &tid)) return NULL;
  if (!atomic_flag_test_and_set(&guard_installed)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_realtime_overrun;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGXCPU, &action, NULL) != 0) {
      atomic_flag_clear(&guard_installed);
      char message[128];
      snprintf(message, sizeof message, "sigaction(SIGXCPU) failed: %s", strerror(errno));
      napi_throw_error(env, "guard-refused", message);
      return NULL;
    }
  }
  for (int i = 0; i < GUARDED_MAX; i++) {
    int64_t none = 0;
    if (atomic_load(&guarded_tids[i]) == (int64_t)tid || atomic_compare_exchange_strong(&guarded_tids[i], &none, (int64_t)tid)) return NULL;
  }
  napi_throw_error(env, "guard-refused", "too many guarded threads");
  return NULL;
}

/* realtimeDemotions() -> how many guarded threads a SIGXCPU has put back to SCHED_OTHER so far. */
static napi_value realtime_demotions_count(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK_NAPI(napi_create_double(env, (double)atomic_load(&realtime_demotions), &result));
  return result;
}

/* makeRealtime(tid, priority): SCHED_RR at `priority` for thread `tid` of this process, set directly, as a process
 * allowed it (RLIMIT_RTPRIO, CAP_SYS_NICE) may, before asking rtkit; children do not inherit it. Throws
 * realtime-refused with the reason otherwise. */
static napi_value make_realtime(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!get_args(env, info, 2, argv)) return NULL;
  uint32_t tid, priority;
  if (!get_uint32(env, argv[0], "tid", &tid) || !get_uint32(env, argv[1], "priority", &priority)) return NULL;
  struct sched_param param = {.sched_priority = (int)priority};
  if (sched_setscheduler((pid_t)tid, SCHED_RR | SCHED_RESET_ON_FORK, &param) != 0) {
    char message[160];
    snprintf(message, sizeof message, "sched_setscheduler(SCHED_RR %u) refused: %s", priority, strerror(errno));
    napi_throw_error(env, "realtime-refused", message);
  }
  return NULL;
}

/* makeOrdinary(tid): thread `tid` of this process back to SCHED_OTHER (its nice value stays), as any thread may do to
 * itself or its process's threads without privilege: a real-time JavaScript thread about to run a known burst steps
 * aside for the sound server's own threads. Throws realtime-refused with the reason otherwise. */
static napi_value make_ordinary(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  uint32_t tid;
  if (!get_uint32(env, argv[0], "tid", &tid)) return NULL;
  struct sched_param normal = {.sched_priority = 0};
  if (sched_setscheduler((pid_t)tid, SCHED_OTHER | SCHED_RESET_ON_FORK, &normal) != 0) {
    char message[160];
    snprintf(message, sizeof message, "sched_setscheduler(SCHED_OTHER) refused: %s", strerror(errno));
    napi_throw_error(env, "realtime-refused", message);
  }
  return NULL;
}
#endif

NAPI_MODULE_INIT() {
  const napi_property_descriptor functions[] = {
      {"open", NULL, open_stream, NULL, NULL, NULL, napi_enumerable, NULL},
      {"start", NULL, start_stream, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, write_samples, NULL, NULL, NULL, napi_enumerable, NULL},
      {"read", NULL, read_samples, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fill", NULL, fill, NULL, NULL, NULL, napi_enumerable, NULL},
      {"stats", NULL, stats, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, close_stream, NULL, NULL, NULL, napi_enumerable, NULL},
#ifdef __linux__
      {"openPulse", NULL, open_pulse, NULL, NULL, NULL, napi_enumerable, NULL},
      {"listPulse", NULL, list_pulse, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threadId", NULL, thread_id, NULL, NULL, NULL, napi_enumerable, NULL},
      {"serveOwed", NULL, serve_owed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"limitRealtime", NULL, limit_realtime, NULL, NULL, NULL, napi_enumerable, NULL},
      {"makeRealtime", NULL, make_realtime, NULL, NULL, NULL, napi_enumerable, NULL},
      {"makeOrdinary", NULL, make_ordinary, NULL, NULL, NULL, napi_enumerable, NULL},
      {"guardRealtime", NULL, guard_realtime, NULL, NULL, NULL, napi_enumerable, NULL},
      {"realtimeDemotions", NULL, realtime_demotions_count, NULL, NULL, NULL, napi_enumerable, NULL},
#endif
  };
  if (napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions) != napi_ok) return NULL;
  return exports;
}
