/*
 * nnginit.h - start nng with small thread pools (every process). nng 1.5
 * sizes its pools by the CPU count with no runtime setting: two task
 * threads per CPU (up to 16) and one timer-expiry thread per CPU (no bound),
 * plus reaper, timer, poller and four resolver threads. On this 2-CPU kind
 * that is 13 threads in each of the agent's seven processes, on a 64-CPU
 * host 87, each with its stack pages and TLS, for a few messages a minute.
 */
#ifndef TFO_NNGINIT_H
#define TFO_NNGINIT_H

/*
 * tfo_nng_init - initialise nng now, as on a 1-CPU host: 2 task threads and
 * 1 expiry thread (10 threads in all). Call once, single-threaded, before
 * any other nng call (after it nng's pools are fixed). 0 or an nng error.
 */
int tfo_nng_init(void);

#endif
