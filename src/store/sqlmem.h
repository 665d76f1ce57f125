/*
 * sqlmem: SQLite's process-wide memory settings, made once before the
 * first connection (sqlite3_config must precede sqlite3_initialize, which
 * the first sqlite3_open_v2 runs).
 *
 *   sqlmem_setup();          before every sqlite3_open_v2 of loopgate's;
 *   sqlite3_open_v2(...);    idempotent and thread-safe
 *
 * What it sets: no bulk page-cache allocation per connection.  SQLite's
 * default allocates 20 page slots (~87 kB with 4 KiB pages) for every
 * connection at its first read and writes them all; loopgate's databases
 * (the run store, the skills index) are small and a run keeps both open,
 * so the slots were mostly resident and unused.  Pages are then allocated
 * as they are read, up to the same cache_size as before: what is cached,
 * and every query's result, is unchanged (docs/design/heap.md).
 */
#ifndef LOOPGATE_SQLMEM_H
#define LOOPGATE_SQLMEM_H

void sqlmem_setup(void);

#endif
