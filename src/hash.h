/*
 * hash: SHA-256 as lowercase hex, the one way loopgate names content
 * (cache keys, stall keys, transcript digests).
 *
 *   char hex[65];
 *   hash_sha256_hex(data, len, hex);
 */
#ifndef LOOPGATE_HASH_H
#define LOOPGATE_HASH_H

#include <stddef.h>

void hash_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
