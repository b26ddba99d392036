/*
 * erasure.h
 *    Erasure of data subjects (SPEC section 5) and the erasure ledger that
 *    lets erasures be replayed after a restore from an older backup.
 */
#ifndef RT_ERASURE_H
#define RT_ERASURE_H

#include "postgres.h"

/*
 * Returns the ledger token of a subject: hexadecimal keyed BLAKE2b of kind
 * and id (with a subkey of the pseudonymization key), or NULL when no key
 * is configured, or (with a WARNING) when the key file cannot be used.
 * This is how the ledger and the audit trail name a subject without its id.
 */
extern char *rt_erasure_subject_token(const char *kind, const char *id);

/*
 * Carries out the pending erasures whose legal holds have all ended (been
 * released or expired).  SPI must be connected.  Returns how many it
 * completed.
 */
extern int	rt_erasure_complete_pending(void);

#endif							/* RT_ERASURE_H */
