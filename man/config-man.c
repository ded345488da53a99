/*
 * config-man.c - build-time generator of tfo-agent.yaml(5): prints the page
 * from the config key table (common/config_man.c) into the file argv[1].
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/config.h"

int
main(int argc, char **argv)
{
	FILE *fp;

	if (argc != 2) {
		fprintf(stderr, "usage: tfo-config-man OUTPUT\n");
		return 2;
	}
	if ((fp = fopen(argv[1], "w")) == NULL) {
		fprintf(stderr, "tfo-config-man: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	tfo_config_write_man(fp);
	if (fclose(fp) != 0) {
		fprintf(stderr, "tfo-config-man: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	return 0;
}
