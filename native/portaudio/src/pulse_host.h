/*
 * The same ring, on PulseAudio's native protocol (and PipeWire's pulse server) instead of PortAudio.
 *
 * PortAudio reaches the sound server through ALSA's pulse plugin, and that path costs: the plugin keeps an ALSA
 * buffer of its own in front of the server's, and it hands the device callback chunks in clumps (none for 20 to
 * 35 ms, then two or three at once). Measured capture -> playback on the latency rig: 7.7 ms through libpulse
 * (pacat | pacat), 21 ms through the plugin (arecord | aplay), 43 to 52 ms through PortAudio and the plugin with the
 * bridge's ring. Here the server asks for each chunk as it needs it, from libpulse's own thread, and the ring
 * serves it exactly as it serves a PortAudio callback.
 *
 * libpulse is opened at run time (dlopen), so the addon neither needs its headers to build nor the library to load:
 * where there is no libpulse, these devices are simply not offered. The few declarations below are libpulse's
 * stable ABI (checked against its 16.1 headers): opaque handles, two plain structs, and the leading fields of the
 * device info structs.
 *
 * Included by partyline_portaudio.c after the ring: one translation unit, one addon.
 */
#ifdef __linux__
#include <dlfcn.h>
#include <time.h>
#include "server_latency.h"

/* What a speaker lets the server ask for at a time: 2.5 ms. */
#define SERVER_REQUEST_FRAMES(rate) ((rate) / 400)

typedef struct pa_threaded_mainloop pa_threaded_mainloop;
typedef struct pa_mainloop_api pa_mainloop_api;
typedef struct pa_context pa_context;
typedef struct pa_stream pa_stream;
typedef struct pa_operation pa_operation;
typedef struct {
  int format;
  uint32_t rate;
  uint8_t channels;
} pa_sample_spec;
typedef struct {
  uint32_t maxlength, tlength, prebuf, minreq, fragsize;
} pa_buffer_attr;
/* How pa_sink_info and pa_source_info begin. */
typedef struct {
  const char *name;
  uint32_t index;
  const char *description;
} pa_device_info_head;

enum { PA_SAMPLE_S16LE = 3 };
enum { PA_CONTEXT_READY = 4, PA_CONTEXT_FAILED = 5, PA_CONTEXT_TERMINATED = 6 };
enum { PA_STREAM_READY = 2, PA_STREAM_FAILED = 3, PA_STREAM_TERMINATED = 4 };
enum { PA_OPERATION_RUNNING = 0 };
enum { PA_CONTEXT_NOAUTOSPAWN = 0x1 };
enum { PA_STREAM_START_CORKED = 0x1, PA_STREAM_INTERPOLATE_TIMING = 0x2, PA_STREAM_AUTO_TIMING_UPDATE = 0x8, PA_STREAM_DONT_MOVE = 0x200, PA_STREAM_ADJUST_LATENCY = 0x2000 };

typedef void (*pa_context_notify_cb)(pa_context *, void *);
typedef void (*pa_stream_notify_cb)(pa_stream *, void *);
typedef void (*pa_stream_request_cb)(pa_stream *, size_t, void *);
typedef void (*pa_device_info_cb)(pa_context *, const pa_device_info_head *, int, void *);

/* The libpulse entry points in use, resolved once. */
static struct {
  int tried, ok;
  char why[160];
  pa_threaded_mainloop *(*mainloop_new)(void);
  void (*mainloop_free)(pa_threaded_mainloop *);
  int (*mainloop_start)(pa_threaded_mainloop *);
  void (*mainloop_stop)(pa_threaded_mainloop *);
  void (*mainloop_lock)(pa_threaded_mainloop *);
  void (*mainloop_unlock)(pa_threaded_mainloop *);
  pa_mainloop_api *(*mainloop_get_api)(pa_threaded_mainloop *);
  pa_context *(*context_new)(pa_mainloop_api *, const char *);
  int (*context_connect)(pa_context *, const char *, int, const void *);
  int (*context_get_state)(const pa_context *);
  int (*context_errno)(const pa_context *);
  void (*context_set_state_callback)(pa_context *, pa_context_notify_cb, void *);
  void (*context_disconnect)(pa_context *);
  void (*context_unref)(pa_context *);
  pa_operation *(*context_get_sink_info_list)(pa_context *, pa_device_info_cb, void *);
  pa_operation *(*context_get_source_info_list)(pa_context *, pa_device_info_cb, void *);
  pa_stream *(*stream_new)(pa_context *, const char *, const pa_sample_spec *, const void *);
  void (*stream_set_state_callback)(pa_stream *, pa_stream_notify_cb, void *);
  void (*stream_set_write_callback)(pa_stream *, pa_stream_request_cb, void *);
  void (*stream_set_read_callback)(pa_stream *, pa_stream_request_cb, void *);
  void (*stream_set_underflow_callback)(pa_stream *, pa_stream_notify_cb, void *);
  void (*stream_set_overflow_callback)(pa_stream *, pa_stream_notify_cb, void *);
  int (*stream_connect_playback)(pa_stream *, const char *, const pa_buffer_attr *, int, const void *, pa_stream *);
  int (*stream_connect_record)(pa_stream *, const char *, const pa_buffer_attr *, int);
  int (*stream_get_state)(const pa_stream *);
  int (*stream_begin_write)(pa_stream *, void **, size_t *);
  int (*stream_write)(pa_stream *, const void *, size_t, void (*)(void *), int64_t, int);
  int (*stream_peek)(pa_stream *, const void **, size_t *);
  int (*stream_drop)(pa_stream *);
  pa_operation *(*stream_cork)(pa_stream *, int, void *, void *);
  const pa_buffer_attr *(*stream_get_buffer_attr)(pa_stream *);
  pa_operation *(*stream_set_buffer_attr)(pa_stream *, const pa_buffer_attr *, void *, void *);
  int (*stream_disconnect)(pa_stream *);
  void (*stream_unref)(pa_stream *);
  int (*operation_get_state)(const pa_operation *);
  void (*operation_unref)(pa_operation *);
  const char *(*strerror)(int);
} P;

static int pulse_load(void) {
  if (P.tried) return P.ok;
  P.tried = 1;
  void *lib = dlopen("libpulse.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    snprintf(P.why, sizeof P.why, "libpulse is not installed (%s)", dlerror());
    return 0;
  }
  struct {
    void **slot;
    const char *name;
  } table[] = {
#define SYM(field, name) {(void **)&P.field, name}
      SYM(mainloop_new, "pa_threaded_mainloop_new"), SYM(mainloop_free, "pa_threaded_mainloop_free"),
      SYM(mainloop_start, "pa_threaded_mainloop_start"), SYM(mainloop_stop, "pa_threaded_mainloop_stop"),
      SYM(mainloop_lock, "pa_threaded_mainloop_lock"), SYM(mainloop_unlock, "pa_threaded_mainloop_unlock"),
      SYM(mainloop_get_api, "pa_threaded_mainloop_get_api"), SYM(context_new, "pa_context_new"),
      SYM(context_connect, "pa_context_connect"), SYM(context_get_state, "pa_context_get_state"),
      SYM(context_errno, "pa_context_errno"), SYM(context_set_state_callback, "pa_context_set_state_callback"),
      SYM(context_disconnect, "pa_context_disconnect"), SYM(context_unref, "pa_context_unref"),
      SYM(context_get_sink_info_list, "pa_context_get_sink_info_list"),
      SYM(context_get_source_info_list, "pa_context_get_source_info_list"), SYM(stream_new, "pa_stream_new"),
      SYM(stream_set_state_callback, "pa_stream_set_state_callback"),
      SYM(stream_set_write_callback, "pa_stream_set_write_callback"),
      SYM(stream_set_read_callback, "pa_stream_set_read_callback"),
      SYM(stream_set_underflow_callback, "pa_stream_set_underflow_callback"),
      SYM(stream_set_overflow_callback, "pa_stream_set_overflow_callback"),
      SYM(stream_connect_playback, "pa_stream_connect_playback"), SYM(stream_connect_record, "pa_stream_connect_record"),
      SYM(stream_get_state, "pa_stream_get_state"), SYM(stream_begin_write, "pa_stream_begin_write"),
      SYM(stream_write, "pa_stream_write"), SYM(stream_peek, "pa_stream_peek"), SYM(stream_drop, "pa_stream_drop"),
      SYM(stream_cork, "pa_stream_cork"), SYM(stream_get_buffer_attr, "pa_stream_get_buffer_attr"),
      SYM(stream_set_buffer_attr, "pa_stream_set_buffer_attr"),
      SYM(stream_disconnect, "pa_stream_disconnect"), SYM(stream_unref, "pa_stream_unref"),
      SYM(operation_get_state, "pa_operation_get_state"), SYM(operation_unref, "pa_operation_unref"),
      SYM(strerror, "pa_strerror"),
#undef SYM
  };
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    *table[i].slot = dlsym(lib, table[i].name);
    if (*table[i].slot == NULL) {
      snprintf(P.why, sizeof P.why, "libpulse lacks %s", table[i].name);
      return 0;
    }
  }
  P.ok = 1;
  return 1;
}

typedef struct PulseLink {
  pa_threaded_mainloop *ml;
  pa_context *ctx;
  pa_stream *stream;
  /* A speaker's server-side buffer, adapted to the underflows it meets (server_latency.h). */
  ServerLatency latency;
} PulseLink;

/* How long the sound server may take to answer anything: a wedged one must not hang JavaScript's thread. */
#define PULSE_DEADLINE_US 3000000u

/* With the mainloop locked: waits (unlocking meanwhile) until `ready` says 1 (done) or -1 (failed), or the deadline. */
static int pulse_wait(PulseLink *l, int (*ready)(PulseLink *, void *), void *arg) {
  uint64_t until = monotonic_us() + PULSE_DEADLINE_US;
  for (;;) {
    int state = ready(l, arg);
    if (state != 0) return state;
    if (monotonic_us() > until) return -2;
    P.mainloop_unlock(l->ml);
    nanosleep(&(struct timespec){0, 1000000}, NULL);
    P.mainloop_lock(l->ml);
  }
}

static int context_ready(PulseLink *l, void *arg) {
  int s = P.context_get_state(l->ctx);
  return s == PA_CONTEXT_READY ? 1 : s == PA_CONTEXT_FAILED || s == PA_CONTEXT_TERMINATED ? -1 : 0;
}

static int stream_ready(PulseLink *l, void *arg) {
  int s = P.stream_get_state(l->stream);
  return s == PA_STREAM_READY ? 1 : s == PA_STREAM_FAILED || s == PA_STREAM_TERMINATED ? -1 : 0;
}

static int operation_done(PulseLink *l, void *arg) { return P.operation_get_state(arg) != PA_OPERATION_RUNNING ? 1 : 0; }

/* Tears everything down, from any thread but libpulse's own. */
static void pulse_close(PulseLink *l) {
  if (l == NULL) return;
  if (l->ml != NULL) {
    P.mainloop_lock(l->ml);
    if (l->stream != NULL) {
      P.stream_set_state_callback(l->stream, NULL, NULL);
      P.stream_set_write_callback(l->stream, NULL, NULL);
      P.stream_set_read_callback(l->stream, NULL, NULL);
      P.stream_disconnect(l->stream);
      P.stream_unref(l->stream);
    }
    if (l->ctx != NULL) {
      P.context_set_state_callback(l->ctx, NULL, NULL);
      P.context_disconnect(l->ctx);
      P.context_unref(l->ctx);
    }
    P.mainloop_unlock(l->ml);
    P.mainloop_stop(l->ml);
    P.mainloop_free(l->ml);
  }
  free(l);
}

/* A connection to the server with its own thread; NULL and `why` filled in when there is none. */
static PulseLink *pulse_connect(char *why, size_t why_size) {
  if (!pulse_load()) {
    snprintf(why, why_size, "%s", P.why);
    return NULL;
  }
  PulseLink *l = calloc(1, sizeof *l);
  if (l == NULL || (l->ml = P.mainloop_new()) == NULL || P.mainloop_start(l->ml) < 0) {
    snprintf(why, why_size, "cannot start libpulse's thread");
    pulse_close(l);
    return NULL;
  }
  P.mainloop_lock(l->ml);
  l->ctx = P.context_new(P.mainloop_get_api(l->ml), "Partyline");
  int state = l->ctx == NULL || P.context_connect(l->ctx, NULL, PA_CONTEXT_NOAUTOSPAWN, NULL) < 0 ? -1 : pulse_wait(l, context_ready, NULL);
  if (state != 1) {
    snprintf(why, why_size, "no sound server answers (%s)", state == -2 ? "it did not answer within 3 s" : l->ctx ? P.strerror(P.context_errno(l->ctx)) : "out of memory");
    P.mainloop_unlock(l->ml);
    pulse_close(l);
    return NULL;
  }
  P.mainloop_unlock(l->ml);
  return l;
}

/* On libpulse's thread, which holds the mainloop lock while it calls back. */
static void note_server_buffer(Ring *r, pa_stream *s) {
  const pa_buffer_attr *a = P.stream_get_buffer_attr(s);
  if (a != NULL) atomic_store(&r->server_frames, (r->input ? a->fragsize : a->tlength) / (uint32_t)sizeof(int16_t));
}

/* On libpulse's thread: asks the server to hold `frames` for this speaker from now on (0: no change). */
static void set_server_latency(Ring *r, pa_stream *s, uint32_t frames) {
  if (frames == 0) return;
  pa_buffer_attr attr = {(uint32_t)-1, frames * (uint32_t)sizeof(int16_t), 0, SERVER_REQUEST_FRAMES(r->rate) * (uint32_t)sizeof(int16_t), (uint32_t)-1};
  pa_operation *op = P.stream_set_buffer_attr(s, &attr, NULL, NULL);
  if (op != NULL) P.operation_unref(op);
}

static void pulse_on_write(pa_stream *s, size_t nbytes, void *user) {
  Ring *r = user;
  note_server_buffer(r, s);
  if (r->pulse != NULL) set_server_latency(r, s, server_latency_quiet(&r->pulse->latency, monotonic_us()));
  /* What the ring cannot give is left unwritten while the server still holds enough for us (it asks again at its
   * next request), and padded with faded silence only as far as keeps it from running dry. So a deepened buffer
   * covers a late top-up as the ring would, and is built as a rise (playouts stretch for it) rather than taken at
   * once as silence or as an early pull of the mixer. */
  uint32_t want = (uint32_t)(nbytes / sizeof(int16_t));
  uint32_t tlength = atomic_load(&r->server_frames);
  uint64_t avail = atomic_load(&r->wpos) - atomic_load(&r->rpos);
  uint64_t held = (tlength > want ? tlength - want : 0) + avail;
  uint32_t floor = 2 * SERVER_REQUEST_FRAMES(r->rate);
  uint64_t shortfall = want > avail ? want - avail : 0;
  uint64_t pad = held < floor ? floor - held : 0;
  uint32_t unwritten = shortfall > pad ? (uint32_t)(shortfall - pad) : 0;
  atomic_store(&r->server_owed, unwritten);
  nbytes -= (size_t)unwritten * sizeof(int16_t);
  /* Nothing to write still is a request JavaScript must hear of, to top the ring up. */
  if (nbytes < sizeof(int16_t)) ring_tick(r);
  while (nbytes >= sizeof(int16_t)) {
    void *data = NULL;
    size_t n = nbytes;
    if (P.stream_begin_write(s, &data, &n) < 0 || data == NULL) return;
    if (n > nbytes) n = nbytes;
    n -= n % sizeof(int16_t);
    ring_callback(r, NULL, data, (uint32_t)(n / sizeof(int16_t)), 0);
    P.stream_write(s, data, n, NULL, 0, 0);
    nbytes -= n;
  }
}

/*
 * From JavaScript's thread, after a top-up: gives the server what it asked for and was left waiting (server_owed), now
 * that the ring holds it. Left for the server's next request, it would wait for a device that renders in large blocks
 * to play a block without it. The lock is held for one write; the server's thread takes it only to call back.
 */
static void pulse_serve_owed(Ring *r) {
  PulseLink *l = r->pulse;
  if (l == NULL || l->stream == NULL || atomic_load(&r->server_owed) == 0) return;
  P.mainloop_lock(l->ml);
  uint32_t owed = atomic_load(&r->server_owed);
  uint64_t avail = atomic_load(&r->wpos) - atomic_load(&r->rpos);
  size_t n = (size_t)(owed < avail ? owed : avail) * sizeof(int16_t);
  void *data = NULL;
  if (n > 0 && P.stream_get_state(l->stream) == PA_STREAM_READY && P.stream_begin_write(l->stream, &data, &n) == 0 && data != NULL) {
    n -= n % sizeof(int16_t);
    uint32_t frames = (uint32_t)(n / sizeof(int16_t));
    ring_transfer(r, NULL, data, frames, 0);
    P.stream_write(l->stream, data, n, NULL, 0, 0);
    atomic_store(&r->server_owed, owed - frames);
  }
  P.mainloop_unlock(l->ml);
}

static void pulse_on_read(pa_stream *s, size_t nbytes, void *user) {
  Ring *r = user;
  note_server_buffer(r, s);
  const void *data;
  size_t n;
  while (P.stream_peek(s, &data, &n) == 0 && n > 0) {
    ring_callback(r, data, NULL, (uint32_t)(n / sizeof(int16_t)), 0);
    P.stream_drop(s);
  }
}

static void pulse_on_xrun(pa_stream *s, void *user) {
  Ring *r = user;
  atomic_fetch_add(&r->xruns, 1);
}

static void pulse_on_underflow(pa_stream *s, void *user) {
  Ring *r = user;
  atomic_fetch_add(&r->xruns, 1);
  if (r->pulse != NULL) set_server_latency(r, s, server_latency_underflow(&r->pulse->latency, monotonic_us(), atomic_load(&r->server_frames)));
}

/* The server went away, or took the device: JavaScript learns it from the next tick, as from PortAudio. */
static void pulse_lost(Ring *r) {
  atomic_store(&r->finished, 1);
  napi_call_threadsafe_function(r->tsfn, NULL, napi_tsfn_nonblocking);
}

static void pulse_on_state(pa_stream *s, void *user) {
  int state = P.stream_get_state(s);
  if (state == PA_STREAM_FAILED || state == PA_STREAM_TERMINATED) pulse_lost(user);
}

static void pulse_on_context_state(pa_context *c, void *user) {
  int state = P.context_get_state(c);
  if (state == PA_CONTEXT_FAILED || state == PA_CONTEXT_TERMINATED) pulse_lost(user);
}

/*
 * Connects `r` (ring, tsfn ready) to `device` (a sink or source name; NULL for the server's default), corked until
 * started. A speaker's server side holds `latency` frames in all (tlength, adjusted to include the device's own
 * latency); a microphone's delivers `period` frames at a time (fragsize). Returns 0, or -1 with `why` filled in.
 */
static int pulse_open(Ring *r, const char *device, uint32_t rate, uint32_t latency, uint32_t period, char *why, size_t why_size) {
  PulseLink *l = pulse_connect(why, why_size);
  if (l == NULL) return -1;
  P.mainloop_lock(l->ml);
  pa_sample_spec spec = {PA_SAMPLE_S16LE, rate, 1};
  l->stream = P.stream_new(l->ctx, r->input ? "Partyline microphone" : "Partyline speaker", &spec, NULL);
  if (l->stream == NULL) {
    snprintf(why, why_size, "cannot create a stream: %s", P.strerror(P.context_errno(l->ctx)));
    P.mainloop_unlock(l->ml);
    pulse_close(l);
    return -1;
  }
  P.stream_set_state_callback(l->stream, pulse_on_state, r);
  pa_buffer_attr attr = {(uint32_t)-1, (uint32_t)-1, (uint32_t)-1, (uint32_t)-1, (uint32_t)-1};
  /* DONT_MOVE: when its device goes, the stream fails (and the station hears of it) rather than moving elsewhere. */
  int flags = PA_STREAM_START_CORKED | PA_STREAM_ADJUST_LATENCY | PA_STREAM_INTERPOLATE_TIMING | PA_STREAM_AUTO_TIMING_UPDATE | PA_STREAM_DONT_MOVE;
  int err;
  if (r->input) {
    attr.fragsize = period * sizeof(int16_t);
    P.stream_set_read_callback(l->stream, pulse_on_read, r);
    P.stream_set_overflow_callback(l->stream, pulse_on_xrun, r);
    err = P.stream_connect_record(l->stream, device, &attr, flags);
  } else {
    /* Requests of 2.5 ms, what the server chose itself for 10 ms (a quarter of the buffer): asking for a whole period
     * made it double tlength to fit two, and left to it, a deepened buffer would be asked for in ever larger bites. */
    attr.tlength = latency * sizeof(int16_t);
    attr.minreq = SERVER_REQUEST_FRAMES(rate) * sizeof(int16_t);
    /* Play from the first byte, and never pause for a refill: a short ring is already covered by the fade. */
    attr.prebuf = 0;
    P.stream_set_write_callback(l->stream, pulse_on_write, r);
    P.stream_set_underflow_callback(l->stream, pulse_on_underflow, r);
    server_latency_init(&l->latency, latency, rate);
    err = P.stream_connect_playback(l->stream, device, &attr, flags, NULL, NULL);
  }
  int state = err < 0 ? -1 : pulse_wait(l, stream_ready, NULL);
  if (state != 1) {
    snprintf(why, why_size, "%s", state == -2 ? "the sound server did not answer within 3 s" : P.strerror(P.context_errno(l->ctx)));
    P.mainloop_unlock(l->ml);
    pulse_close(l);
    return -1;
  }
  P.context_set_state_callback(l->ctx, pulse_on_context_state, r);
  note_server_buffer(r, l->stream);
  r->pulse = l;
  P.mainloop_unlock(l->ml);
  return 0;
}

static void pulse_start(PulseLink *l) {
  P.mainloop_lock(l->ml);
  server_latency_start(&l->latency, monotonic_us());
  pa_operation *op = P.stream_cork(l->stream, 0, NULL, NULL);
  if (op != NULL) P.operation_unref(op);
  P.mainloop_unlock(l->ml);
}

#define PULSE_LIST_MAX 128

/* Filled on libpulse's thread, read on JavaScript's once the operation is done. */
typedef struct {
  uint32_t count;
  struct {
    char name[256];
    char description[256];
  } entries[PULSE_LIST_MAX];
} DeviceListing;

static void on_device_info(pa_context *c, const pa_device_info_head *info, int eol, void *user) {
  DeviceListing *d = user;
  if (eol || info == NULL || info->name == NULL || d->count >= PULSE_LIST_MAX) return;
  snprintf(d->entries[d->count].name, sizeof d->entries[0].name, "%s", info->name);
  snprintf(d->entries[d->count].description, sizeof d->entries[0].description, "%s", info->description ? info->description : info->name);
  d->count++;
}

/* serveOwed(handle): see pulse_serve_owed; nothing for a stream not on the sound server. */
static napi_value serve_owed(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  Ring *r = unwrap_tagged(env, argv[0], &RING_TAG, "bad-handle", "not a sound device stream handle");
  if (r == NULL) return NULL;
  if (r->host_pulse && !r->input && r->state == STARTED) pulse_serve_owed(r);
  return NULL;
}

/* listPulse(input) -> [{ name, description }]: the server's sources or sinks; throws no-sound-server. */
static napi_value list_pulse(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  bool input;
  if (napi_get_value_bool(env, argv[0], &input) != napi_ok) {
    throw_pending_or(env, "bad-arguments", "input must be a boolean");
    return NULL;
  }
  char why[256];
  PulseLink *l = pulse_connect(why, sizeof why);
  if (l == NULL) {
    napi_throw_error(env, "no-sound-server", why);
    return NULL;
  }
  DeviceListing *d = calloc(1, sizeof *d);
  if (d == NULL) {
    pulse_close(l);
    napi_throw_error(env, "internal", "out of memory");
    return NULL;
  }
  P.mainloop_lock(l->ml);
  pa_operation *op = (input ? P.context_get_source_info_list : P.context_get_sink_info_list)(l->ctx, on_device_info, d);
  int state = op == NULL ? -1 : pulse_wait(l, operation_done, op);
  if (op != NULL) P.operation_unref(op);
  P.mainloop_unlock(l->ml);
  pulse_close(l);
  if (state != 1) {
    free(d);
    napi_throw_error(env, "no-sound-server", state == -2 ? "the sound server did not list its devices within 3 s" : "the sound server refused to list its devices");
    return NULL;
  }
  napi_value list;
  napi_status ok = napi_create_array(env, &list);
  for (uint32_t i = 0; ok == napi_ok && i < d->count; i++) {
    napi_value entry, name, description;
    ok = napi_create_object(env, &entry);
    if (ok == napi_ok) ok = napi_create_string_utf8(env, d->entries[i].name, NAPI_AUTO_LENGTH, &name);
    if (ok == napi_ok) ok = napi_create_string_utf8(env, d->entries[i].description, NAPI_AUTO_LENGTH, &description);
    if (ok == napi_ok) ok = napi_set_named_property(env, entry, "name", name);
    if (ok == napi_ok) ok = napi_set_named_property(env, entry, "description", description);
    if (ok == napi_ok) ok = napi_set_element(env, list, i, entry);
  }
  free(d);
  if (ok != napi_ok) {
    throw_pending_or(env, "internal", "cannot build the device list");
    return NULL;
  }
  return list;
}
#endif
