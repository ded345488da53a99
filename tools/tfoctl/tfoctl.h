/*
 * tfoctl.h - tfoctl's status rendering (tfoctl only): a systemctl-like table
 * and the stable JSON document of issue 3.
 */
#ifndef TFO_TFOCTL_H
#define TFO_TFOCTL_H

#include <stdio.h>

#include "tfo/v1/tfo.pb-c.h"

void tfoctl_print_table(FILE *fp, const Tfo__V1__SupervisorStatus *st);
/* tfoctl_print_json - returns 0, or 1 when the document cannot be built */
int tfoctl_print_json(FILE *fp, const Tfo__V1__SupervisorStatus *st);

#endif
