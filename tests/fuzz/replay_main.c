/*
 * replay_main.c - a stand-in for libFuzzer's driver in builds without
 * -fsanitize=fuzzer: feeds every seed file named on the command line (files
 * or directories) to LLVMFuzzerTestOneInput, then a fixed number of
 * deterministic mutations of each (truncations, bit flips, byte splices), so
 * that the decoders meet hostile input under ASan/UBSan on every build.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX (1u << 20)
#define MUTATIONS 400

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void
mutate_and_run(const uint8_t *seed, size_t len)
{
	uint8_t *buf = malloc(len + 16);

	if (buf == NULL)
		return;
	LLVMFuzzerTestOneInput(seed, len);
	for (int i = 0; i < MUTATIONS; i++) {
		size_t n = len;
		memcpy(buf, seed, len);
		switch (next_rand() % 4) {
		case 0:
			n = len ? (size_t)(next_rand() % len) : 0;
			break;
		case 1:
			if (len)
				buf[next_rand() % len] ^= (uint8_t)(1u << (next_rand() % 8));
			break;
		case 2:
			if (len)
				buf[next_rand() % len] = (uint8_t)next_rand();
			break;
		default:
			for (int k = 0; k < 16; k++)
				buf[n++] = (uint8_t)next_rand();
			break;
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	free(buf);
}

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		perror(path);
		return 1;
	}
	buf = malloc(REPLAY_MAX);
	if (buf == NULL) {
		fclose(f);
		return 1;
	}
	n = fread(buf, 1, REPLAY_MAX, f);
	fclose(f);
	mutate_and_run(buf, n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int rc = 0, files = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			rc |= run_file(argv[i]);
			files++;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		while (d && (de = readdir(d)) != NULL) {
			char p[4096];
			if (de->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
			rc |= run_file(p);
			files++;
		}
		if (d)
			closedir(d);
	}
	printf("replayed %d seeds with %d mutations each\n", files, MUTATIONS);
	return rc || files == 0;
}
