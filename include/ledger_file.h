/*
 * ledger_file.h
 *    The ledger file (docs/reference.md#backups-and-restores): every
 *    erasure this database commits is also appended, at commit, to a file
 *    outside the data directory (retention.ledger_file), so that a
 *    restored database can find out what it lacks.  Also the ledger's
 *    identity: which ledger this database writes and descends from.
 */
#ifndef RT_LEDGER_FILE_H
#define RT_LEDGER_FILE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "nodes/pg_list.h"
#include "utils/hsearch.h"

/*
 * SQL over a row of retention.erasure_ledger giving the JSON text of the
 * entry the ledger file records (tokens and fingerprints, never an id):
 * the statements that write the ledger return it for rt_ledger_file_queue().
 */
#define RT_LEDGER_FILE_ENTRY_SQL \
	"pg_catalog.jsonb_build_object('erasure_id', erasure_id, 'kind', kind," \
	" 'subject_hash', pg_catalog.encode(subject_hash, 'hex'), 'key_fingerprint', key_fingerprint," \
	" 'status', status, 'rows', rows, 'requested_at', requested_at, 'requested_by', requested_by," \
	" 'completed_at', completed_at)::pg_catalog.text"

/* Which ledger this database writes, which it descends from, and the file it wrote to. */
typedef struct RtLedgerIdentity
{
	char	   *ledger;			/* uuid@system/database */
	List	   *ancestors;		/* ledger names (char *) */
	char	   *file_path;		/* NULL: has written to no file */
	char	   *file_id;
} RtLedgerIdentity;

/* One erasure as the ledger file holds it: the last version whose transaction did not abort. */
typedef struct RtFileErasure
{
	char		erasure_id[37];	/* hash key */
	char	   *ledger;
	char	   *txn;
	char	   *entry_json;		/* the entry object, as written */
	char	   *status;
	int			line;
	TimestampTz at;				/* when the line was written */
	char		outcome;		/* 'c' committed, '?' unconfirmed */
} RtFileErasure;

/* One transaction that wrote erasure lines, and how it ended. */
typedef struct RtFileTxn
{
	char		txn[48];		/* hash key: "<system>:<xid8>" */
	char	   *ledger;
	char		outcome;		/* 'c', 'a', '?' */
	uint64		system;
	uint64		xid;			/* a FullTransactionId's value */
	TimestampTz at;
	List	   *erasure_ids;	/* of its lines (char *) */
} RtFileTxn;

/* What the ledger file says about a set of ledgers. */
typedef struct RtLedgerFileState
{
	char	   *path;
	char	   *file_id;
	int			lines;
	HTAB	   *erasures;		/* RtFileErasure by erasure id */
	HTAB	   *txns;			/* RtFileTxn by txn */
	int64		anchor_seq;		/* the newest anchor of the first ledger asked for; 0: none */
	char	   *anchor_hash;	/* its hash, hexadecimal */
	TimestampTz anchor_at;
} RtLedgerFileState;

/* Defines retention.ledger_file (called by _PG_init). */
extern void rt_ledger_file_define_gucs(void);

/* Returns the configured path of the ledger file, or NULL when retention.ledger_file is empty. */
extern const char *rt_ledger_file_path(void);

/* Returns the name of the ledger uuid written from this database: "uuid@system/database". */
extern char *rt_ledger_name_here(const char *uuid);

/* Returns the uuid part of a ledger name (a copy). */
extern char *rt_ledger_uuid(const char *ledger);

/*
 * Reads this database's ledger identity into *id; when there is none yet
 * and create is true, creates one for a new ledger written from here.
 * Returns false when there is none (create false).  SPI must be connected.
 */
extern bool rt_ledger_identity_read(RtLedgerIdentity *id, bool create);

/* Replaces the ledger identity by *id.  SPI must be connected. */
extern void rt_ledger_identity_write(const RtLedgerIdentity *id);

/*
 * Queues the ledger entries in column `column` (RT_LEDGER_FILE_ENTRY_SQL)
 * of the n rows of tuptable, to be appended to the ledger file when the
 * transaction commits: written before the commit and confirmed after it;
 * an entry of a subtransaction that rolls back is dropped, and one of a
 * transaction that rolls back is marked aborted.  Checks the file first
 * (raising the error of a missing, foreign or unsafe file).  Nothing
 * happens when retention.ledger_file is empty.  SPI must be connected.
 */
extern void rt_ledger_file_queue(SPITupleTable *tuptable, uint64 n, int column);

/*
 * Reads and checks the ledger file, keeping what concerns the ledgers
 * named in ledgers (char *; the first is this database's own, whose
 * newest anchor is returned).  On a file that is missing, foreign, unsafe
 * or damaged, returns NULL and the problem in *problem (an ErrorData) when
 * problem is not NULL, else raises it.
 */
extern RtLedgerFileState *rt_ledger_file_read(List *ledgers, ErrorData **problem);

/*
 * Appends lines (JSON objects as text, char *) to the ledger file now,
 * fsynced, creating the file first when this database may; raises the
 * error it meets.  For lines that record no erasure: audit anchors and the
 * outcome of transactions a crash left unconfirmed.  SPI must be connected.
 */
extern void rt_ledger_file_append(List *lines);

/*
 * Returns true when retention.ledger_file names a file that exists, or one
 * that this database (identity id) wrote to and so must exist; false when
 * no file is configured or none was created yet.
 */
extern bool rt_ledger_file_expected(const RtLedgerIdentity *id);

#endif							/* RT_LEDGER_FILE_H */
