/*
 * key.h
 *    The pseudonymization key: the setting retention.key_file, the key
 *    loaded from that file into libsodium guarded memory, and the subkeys
 *    derived from it.  Nothing here ever returns or logs the root key
 *    itself (docs/reference.md#masks-and-the-pseudonymization-key).
 */
#ifndef RT_KEY_H
#define RT_KEY_H

#include "postgres.h"

/* Size of the root key and of every derived subkey, in bytes. */
#define RT_KEY_BYTES 32

/* Length of a key fingerprint as text (hexadecimal digits). */
#define RT_KEY_FINGERPRINT_LEN 16

/*
 * Decodes the text of a key file (64 hexadecimal digits and an optional
 * line end, nothing else) into the RT_KEY_BYTES bytes at key; returns
 * false, with key zeroed, when the text is malformed.  Pure C and
 * libsodium, for the fuzzer.
 */
extern bool rt_key_text_parse(const char *text, size_t len, unsigned char *key);

/* Defines the setting retention.key_file (called by _PG_init). */
extern void rt_key_define_gucs(void);

/*
 * Returns the 32-byte pseudonymization subkey of a context (any bytes,
 * len of them), loading the key first if needed.  The memory stays
 * readable until the end of the current transaction and must not be
 * written.  Raises an error when no usable key is configured.
 */
extern const unsigned char *rt_key_pseudonym_subkey(const char *context, int len);

/*
 * Derives outlen bytes (16 to 64) from the root key for subkey_id in the
 * eight-character context ctx (crypto_kdf_derive_from_key), for modules
 * that need a keyed hash of their own.  The caller zeroes out after use.
 * Raises an error when no usable key is configured.
 */
extern void rt_key_derive(uint64 subkey_id, const char *ctx, unsigned char *out, size_t outlen);

/* Returns the fingerprint of the configured key, loading it first if needed. */
extern const char *rt_key_fingerprint(void);

/* Returns the fingerprint of the key this session has loaded, or NULL if none is loaded. */
extern const char *rt_key_loaded_fingerprint(void);

/*
 * Returns NULL when retention.key_file names a readable file, otherwise a
 * sentence saying what is missing (for warnings; the file is not parsed).
 */
extern const char *rt_key_problem(void);

/*
 * Returns NULL when the configured key loads, else the message of the
 * error loading it raises; the error itself is caught (in a
 * subtransaction), for callers that can go on without the key.
 */
extern const char *rt_key_load_problem(void);

#endif							/* RT_KEY_H */
