/*
 * banned.h: C library functions this code never calls, as git's banned.h.
 * Each is unbounded, not reentrant or runs a shell on a built string:
 *
 *   strcpy strcat sprintf vsprintf  no size: use struct buf (base/buf.h)
 *   strncpy strncat                 silently cut or leave no NUL
 *   gets                            no size at all
 *   strtok                          hidden state
 *   system popen                    a shell on a built string: exec/proc.h
 *   atoi atol atoll                 no error: use strtol and check
 *   asctime ctime gmtime localtime  static buffers: the _r forms
 *   tmpnam mktemp                   races: mkstemp, mkdtemp
 *
 * `make lint` compiles every file with the system headers first and this
 * header forced in last (-include), so a call to one of these fails there.
 */
#ifndef LOOPGATE_BANNED_H
#define LOOPGATE_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef atol
#define atol(x) BANNED(atol)
#undef atoll
#define atoll(x) BANNED(atoll)
#undef asctime
#define asctime(x) BANNED(asctime)
#undef ctime
#define ctime(x) BANNED(ctime)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)
#undef tmpnam
#define tmpnam(x) BANNED(tmpnam)
#undef mktemp
#define mktemp(x) BANNED(mktemp)

#endif
