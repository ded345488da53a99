/*
 * err.h - the one error enum of common/: library code returns these, never
 * exits, and leaves logging to the caller that decides.
 */
#ifndef TFO_ERR_H
#define TFO_ERR_H

enum tfo_err {
	TFO_OK = 0,
	TFO_ENOMEM,     /* allocation failed */
	TFO_EINVAL,     /* malformed input or argument */
	TFO_ERANGE,     /* value out of range / too large */
	TFO_EIO,        /* read/write/system call failed; errno holds the cause */
	TFO_ENOENT,     /* missing file or key */
	TFO_EPROTO,     /* peer spoke an unknown or bad message */
	TFO_EVERSION,   /* peer's protocol version differs */
	TFO_ETIMEDOUT,  /* operation did not finish in time */
	TFO_EAGAIN,     /* try again later (busy, full) */
	TFO_EPERM,      /* not permitted (peer uid, sandbox) */
	TFO_ECLOSED,    /* peer went away */
	TFO_EINPROGRESS, /* started, not finished yet (asynchronous calls) */
};

const char *tfo_strerror(enum tfo_err e);

#endif
