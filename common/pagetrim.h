/*
 * pagetrim.h - unmap the file pages that only start-up used (every process,
 * issue 18 §2).
 */
#ifndef TFO_PAGETRIM_H
#define TFO_PAGETRIM_H

#include <stddef.h>
#include <stdint.h>

/*
 * tfo_pagetrim - drop this process's mappings of the pages of every
 * read-only or executable segment of the executable and its libraries
 * (MADV_DONTNEED): what start-up touched once (the loader's symbol lookups,
 * constructors, the config parser, NSS modules, TLS library init, and the
 * neighbours fault-around mapped with them) stops counting in the process's
 * RSS and PSS; the pages stay in the page cache, as cache the kernel may
 * reclaim, and what the process still runs is mapped again at its next use
 * (a minor fault). Writable segments (data, bss, RELRO) are never touched,
 * nor objects with text relocations. Returns the number of segments trimmed.
 */
size_t tfo_pagetrim(void);

/* after a start or a reload: a trim at the next tick, and one a minute on,
 * when the first cycles, beats and TLS handshakes have run once */
#define TFO_PAGETRIM_LATER_MS 60000

struct tfo_pagetrim_sched {
	int64_t due_ms[2];      /* 0: done */
};

/* tfo_pagetrim_arm - a start or reload at now_ms: trims due (see above) */
void tfo_pagetrim_arm(struct tfo_pagetrim_sched *s, int64_t now_ms);

/* tfo_pagetrim_tick - a periodic tick (health pings): trim when one is due
 * (several due at once: one trim); 1 when it trimmed */
int tfo_pagetrim_tick(struct tfo_pagetrim_sched *s, int64_t now_ms);

#endif
