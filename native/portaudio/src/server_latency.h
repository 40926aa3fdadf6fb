/*
 * How much a speaker asks the sound server to hold for it. A device underflow means the server's buffer ran dry
 * before our thread answered its request (a late scheduler, not an empty ring): the only cure is a deeper buffer
 * on the server's side, so each one raises it at once, as PulseAudio's own ALSA sink raises its watermark: by a
 * step, or, when our thread was away longer, until the stream's queue covers that wait plus a step, so one stall
 * is paid for once. With ADJUST_LATENCY the server gives about half of what we ask to the device and the rest to
 * our queue, and a device that renders ahead (a null sink) drains the queue by its whole block at once: so the
 * queue it reports, not what we asked, is what must cover the wait.
 * After a quiet spell it comes back down a half step at a time, never below what the station asked for.
 *
 * Pure bookkeeping, touched by libpulse's thread alone; included by pulse_host.h.
 */
#ifndef PARTYLINE_SERVER_LATENCY_H
#define PARTYLINE_SERVER_LATENCY_H
#include <stdint.h>

#define SERVER_LATENCY_STEP_MS 10
#define SERVER_LATENCY_CAP_MS 100
#define SERVER_LATENCY_HOLD_US 20000000u
#define SERVER_LATENCY_DECAY_EVERY_US 5000000u
/* A stream's first moments: the server starts playing before the first refill settles, as every client's does. */
#define SERVER_LATENCY_STARTUP_US 1500000u
#define SERVER_LATENCY_WAIT_MEMORY_US 500000u

typedef struct {
  uint32_t base, current, cap, step, rate;
  uint64_t started_us, last_underflow_us, last_change_us, last_served_us;
  /* The longest wait between two served requests lately: a stalled thread serves the backlog before the server's
   * underflow notice reaches it, so the stall shows there rather than at the notice. */
  uint64_t longest_wait_us, longest_wait_at_us;
} ServerLatency;

static void server_latency_init(ServerLatency *s, uint32_t base_frames, uint32_t rate) {
  s->base = s->current = base_frames;
  s->step = rate * SERVER_LATENCY_STEP_MS / 1000;
  s->cap = rate * SERVER_LATENCY_CAP_MS / 1000;
  s->rate = rate;
  if (s->cap < base_frames) s->cap = base_frames;
  s->started_us = s->last_underflow_us = s->last_change_us = s->last_served_us = 0;
  s->longest_wait_us = s->longest_wait_at_us = 0;
}

/* The stream starts playing at `now`. */
static void server_latency_start(ServerLatency *s, uint64_t now) { s->started_us = now; }

/* An underflow at `now`, with the server holding a queue of `queue_frames` for us: the new target in frames, or 0
 * when it stays. */
static uint32_t server_latency_underflow(ServerLatency *s, uint64_t now, uint32_t queue_frames) {
  s->last_underflow_us = now;
  if (s->started_us == 0 || now - s->started_us < SERVER_LATENCY_STARTUP_US || s->current >= s->cap) return 0;
  uint64_t away_us = s->last_served_us != 0 && now > s->last_served_us ? now - s->last_served_us : 0;
  if (now - s->longest_wait_at_us < SERVER_LATENCY_WAIT_MEMORY_US && s->longest_wait_us > away_us) away_us = s->longest_wait_us;
  uint64_t want = (uint64_t)s->current + s->step;
  uint64_t needed = away_us * s->rate / 1000000u + s->step;
  if (needed > queue_frames && s->current + 2 * (needed - queue_frames) > want) want = s->current + 2 * (needed - queue_frames);
  s->current = want > s->cap ? s->cap : (uint32_t)want;
  s->last_change_us = now;
  return s->current;
}

/* A request from the server served at `now`: the new, lower target after a quiet spell, or 0 when it stays. */
static uint32_t server_latency_quiet(ServerLatency *s, uint64_t now) {
  if (s->last_served_us != 0) {
    uint64_t wait = now - s->last_served_us;
    if (now - s->longest_wait_at_us >= SERVER_LATENCY_WAIT_MEMORY_US || wait > s->longest_wait_us) {
      s->longest_wait_us = wait;
      s->longest_wait_at_us = now;
    }
  }
  s->last_served_us = now;
  if (s->current <= s->base || now - s->last_underflow_us < SERVER_LATENCY_HOLD_US || now - s->last_change_us < SERVER_LATENCY_DECAY_EVERY_US) return 0;
  uint32_t down = s->step / 2;
  s->current = s->current - down < s->base ? s->base : s->current - down;
  s->last_change_us = now;
  return s->current;
}
#endif
