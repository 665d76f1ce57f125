/*
 * fuzz.h: what every harness in fuzz/ shares.
 *
 * A harness is one file fuzz/fuzz_NAME.c defining
 *   int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 * that feeds one parser of outside input and returns 0.  It is built twice:
 *   make fuzz       with clang's libFuzzer (+ASan, UBSan): a timed run of each
 *                   harness over fuzz/corpus/NAME (tools/fuzz.sh)
 *   make / check    with fuzz/driver.c as main: tests/t0003-fuzz-corpus.sh
 *                   runs every file of fuzz/corpus/NAME once, so a crash once
 *                   found stays a regression test (ASan under make check).
 * A harness must not leak, write outside a temp file of its own, or depend
 * on anything but its input.
 */
#ifndef LOOPGATE_FUZZ_H
#define LOOPGATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (malloc'd); never NULL. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The input written to a fresh temp file for path-based readers; the
 * caller unlinks path.  path must hold 64 bytes. */
static inline void fuzz_file(const uint8_t *data, size_t size, char path[64])
{
	size_t off = 0;
	int fd;
	snprintf(path, 64, "/tmp/lg-fuzz-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		abort();
	while (off < size) {
		ssize_t n = write(fd, data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	close(fd);
}

#endif
