/*
 * heap_count.c
 *    Counting the rows of a table from its pages (see heap_count.h).
 *
 * A partition removed whole is counted for its run record and audit entry
 * (docs/operations.md#partitions).  SELECT count(*) runs every row through
 * the executor; on a vacuumed table almost every page is all-visible, and
 * PostgreSQL's own sequential scan then skips the visibility test of each
 * row (heapgetpage): a row of such a page is a normal line pointer.  This
 * counts the same rows the same way, page by page, without forming them.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/tableam.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "heap_count.h"

/* Returns the rows of a heap table visible to snapshot; see heap_count.h. */
int64
rt_heap_count_visible(Relation rel, Snapshot snapshot)
{
	BufferAccessStrategy strategy;
	BlockNumber nblocks;
	int64		rows = 0;

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_tableam != GetHeapamTableAmRoutine())
		return -1;
	strategy = GetAccessStrategy(BAS_BULKREAD);
	nblocks = RelationGetNumberOfBlocks(rel);
	for (BlockNumber blkno = 0; blkno < nblocks; blkno++)
	{
		Buffer		buffer;
		Page		page;
		OffsetNumber maxoff;
		bool		all_visible;

		CHECK_FOR_INTERRUPTS();
		buffer = ReadBufferExtended(rel, MAIN_FORKNUM, blkno, RBM_NORMAL, strategy);
		LockBuffer(buffer, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buffer);
		maxoff = PageGetMaxOffsetNumber(page);
		/* as heapgetpage decides: a standby's snapshot cannot trust the flag */
		all_visible = PageIsAllVisible(page) && !snapshot->takenDuringRecovery;
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			ItemId		lp = PageGetItemId(page, off);
			HeapTupleData tuple;

			if (!ItemIdIsNormal(lp))
				continue;
			if (all_visible)
			{
				rows++;
				continue;
			}
			tuple.t_data = (HeapTupleHeader) PageGetItem(page, lp);
			tuple.t_len = ItemIdGetLength(lp);
			tuple.t_tableOid = RelationGetRelid(rel);
			ItemPointerSet(&tuple.t_self, blkno, off);
			if (HeapTupleSatisfiesVisibility(&tuple, snapshot, buffer))
				rows++;
		}
		UnlockReleaseBuffer(buffer);
	}
	FreeAccessStrategy(strategy);
	return rows;
}
