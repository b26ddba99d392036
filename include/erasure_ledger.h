/*
 * erasure_ledger.h
 *    The erasure ledger after the erasure: pending erasures carried out
 *    when their holds end, the ledger's export and import between
 *    databases, and its replay after a restore.
 */
#ifndef RT_ERASURE_LEDGER_H
#define RT_ERASURE_LEDGER_H

#include "postgres.h"

/*
 * Carries out the pending erasures whose legal holds have all ended (been
 * released or expired).  SPI must be connected.  Returns how many it
 * completed.
 */
extern int	rt_erasure_complete_pending(void);

#endif							/* RT_ERASURE_LEDGER_H */
