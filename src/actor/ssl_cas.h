/*
 * ssl_cas: which certificate authorities the own HTTP client trusts, read
 * the cheap way.
 *
 * The trust is OpenSSL's default, SSL_CTX_set_default_verify_paths's: the
 * CA bundle file (SSL_CERT_FILE, or OpenSSL's default, on Debian
 * /etc/ssl/certs/ca-certificates.crt) and the hashed CA directory
 * (SSL_CERT_DIR, or the default /etc/ssl/certs, with c_rehash's
 * HASH.N links), either of them vouching.  What changes is when each is
 * read: the directory is asked first, one CA at a time by subject hash, as
 * a chain needs it; the bundle, which OpenSSL parses whole (~0.85 MB of
 * heap for Debian's ~140 CAs), is read only when a server's chain does not
 * verify with the directory alone (a CA appended to the bundle by hand, no
 * directory, SSL_CERT_FILE naming a private CA), then kept for the rest of
 * the process.  The verdict is always OpenSSL's own verification of the
 * handshake's chain against the store: the trial with the directory only
 * decides whether to read the bundle first, never whether a chain passes.
 *
 *   SSL_CTX *c = SSL_CTX_new(...);
 *   ssl_cas_use(c);                   once, before the first handshake
 *
 * SL (actor/ssl_api.h) must be loaded.  Thread-safe after the call: the
 * bundle is read once, by the first handshake that needs it.
 */
#ifndef LOOPGATE_SSL_CAS_H
#define LOOPGATE_SSL_CAS_H

#include <openssl/ssl.h>

/* Sets c's CAs and its chain verification as above.  0, or -1 when the
 * store could not be set up (out of memory). */
int ssl_cas_use(SSL_CTX *c);

#endif
