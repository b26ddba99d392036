/*
 * subxact.h
 *    Runs one step of a run in an internal subtransaction, so that an error
 *    undoes the step alone and comes back as data the caller decides on
 *    (retry the batch, step around the row, record the run as failed).
 */
#ifndef RT_SUBXACT_H
#define RT_SUBXACT_H

#include "postgres.h"

/*
 * Runs fn(arg) in an internal subtransaction with an SPI connection of its
 * own; returns NULL on success, or the error it raised, copied into
 * error_cxt, with the subtransaction rolled back.
 */
extern ErrorData *rt_in_subtransaction(void (*fn) (void *arg), void *arg, MemoryContext error_cxt);

/*
 * Like rt_in_subtransaction, but fn runs in the caller's SPI connection
 * when own_spi is false (its prepared statements and results stay usable).
 */
extern ErrorData *rt_in_subtransaction_ext(void (*fn) (void *arg), void *arg, MemoryContext error_cxt,
										   bool own_spi);

/*
 * Runs fn(arg) in an internal subtransaction, in the caller's SPI
 * connection, and always rolls it back: what fn locked or wrote is undone
 * (its SPI results go too: fn keeps what it needs in arg).  An error of fn
 * is raised again after the rollback.
 */
extern void rt_in_subtransaction_undone(void (*fn) (void *arg), void *arg);

#endif							/* RT_SUBXACT_H */
