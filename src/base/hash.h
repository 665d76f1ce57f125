/*
 * hash: SHA-256 as lowercase hex, the one way loopgate names content
 * (cache keys, stall keys, transcript digests), and random hex for names
 * that must not be guessed (run ids, event-chain nonces).
 *
 *   char hex[65];
 *   hash_sha256_hex(data, len, hex);
 *   hash_random_hex(32, hex);         2 * n + 1 bytes of room
 */
#ifndef LOOPGATE_HASH_H
#define LOOPGATE_HASH_H

#include <stddef.h>

void hash_sha256_hex(const void *data, size_t len, char hex[65]);
/* n random bytes (at most 64) as 2n hex characters; 0 or -errno. */
int hash_random_hex(size_t n, char *hex);

#endif
