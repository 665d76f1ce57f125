/*
 * sqlmem.c: SQLite's process-wide memory settings.  See sqlmem.h.
 */
#include "store/sqlmem.h"

#include <pthread.h>
#include <sqlite3.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void setup(void)
{
	/* pMem NULL, sz 0, N 0: no per-connection bulk allocation.  Refused
	 * (SQLITE_MISUSE) only if SQLite was initialised before, by code that
	 * is not loopgate's: the default then stays, which is harmless. */
	(void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, (void *)0, 0, 0);
}

void sqlmem_setup(void)
{
	pthread_once(&once, setup);
}
