/* err.c - names for the tfo_err enum (all processes). */
#include "common/err.h"

const char *
tfo_strerror(enum tfo_err e)
{
	switch (e) {
	case TFO_OK: return "success";
	case TFO_ENOMEM: return "out of memory";
	case TFO_EINVAL: return "invalid input";
	case TFO_ERANGE: return "value out of range";
	case TFO_EIO: return "I/O error";
	case TFO_ENOENT: return "not found";
	case TFO_EPROTO: return "protocol error";
	case TFO_EVERSION: return "protocol version mismatch";
	case TFO_ETIMEDOUT: return "timed out";
	case TFO_EAGAIN: return "try again";
	case TFO_EPERM: return "not permitted";
	case TFO_ECLOSED: return "peer closed";
	case TFO_EINPROGRESS: return "in progress";
	}
	return "unknown error";
}
