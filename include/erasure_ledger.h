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

/*
 * Applies the ledger entries not applied in this database yet (imported,
 * or brought from the ledger file after a restore) and the pending ones
 * whose holds ended, as retention.replay_erasures() does, writing the same
 * audit entries.  Raises an error without a usable key.  SPI must be
 * connected.  Returns how many entries it looked at.
 */
extern int	rt_erasure_replay_unapplied(void);

#endif							/* RT_ERASURE_LEDGER_H */
