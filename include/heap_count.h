/*
 * heap_count.h
 *    Counting the rows of a table from its pages: what count(*) returns,
 *    without the executor.
 *
 * Ground floor: includes only PostgreSQL's headers.
 */
#ifndef RT_HEAP_COUNT_H
#define RT_HEAP_COUNT_H

#include "postgres.h"

#include "utils/rel.h"
#include "utils/snapshot.h"

/*
 * Returns the number of rows of a heap table visible to snapshot, exactly
 * as SELECT count(*) FROM ONLY rel would, or -1 when rel is not a heap
 * table (another table access method: count it with SQL).  On a page the
 * visibility map marks all-visible every row is visible to every snapshot,
 * so such a page's rows are counted from its line pointers alone; the rows
 * of the other pages are checked one by one.  The caller holds a lock on
 * rel.
 */
extern int64 rt_heap_count_visible(Relation rel, Snapshot snapshot);

#endif							/* RT_HEAP_COUNT_H */
