/*
 * ledger_file.c
 *    The ledger file: every erasure this database commits, also recorded
 *    outside the data directory (retention.ledger_file), and the ledger's
 *    identity (docs/reference.md#backups-and-restores).
 *
 * Why a file.  The erasure ledger is a table: a backup restored from
 * before an erasure has no trace of it.  A file outside the data
 * directory is not restored with the data, so it still holds the erasures
 * made since, and a restored database can replay them (restore.c).
 *
 * The file is JSON lines, append-only: a header, then one line per event,
 * each ending in a tab and a BLAKE2b-128 hash of the previous line's hash
 * and this line's JSON, so that a damaged, edited, removed or reordered
 * line is found (as with the audit chain, this detects accidents and naive
 * edits, not someone who recomputes the chain).  Lines hold ledger names,
 * erasure ids, kinds, subject tokens (keyed hashes) and key fingerprints,
 * never a subject id.  The file is protected like the key file: a regular
 * file of the server's OS user, mode 0600; writers take an exclusive
 * flock(), readers a shared one; every append is fsynced.
 *
 * Commit protocol.  An erasure's transaction writes its entries to the
 * ledger table; rt_ledger_file_queue() keeps them (dropping those of a
 * subtransaction that rolls back), and at XACT_EVENT_PRE_COMMIT they are
 * appended as "erasure" lines naming the transaction (system identifier
 * and 64-bit xid) and fsynced, before the commit record exists; a failure
 * there aborts the transaction, so that no committed erasure is missing
 * from the file.  After the commit (XACT_EVENT_COMMIT, the commit record
 * flushed first) a "commit" line confirms them; after an abort an "abort"
 * line cancels them: an erasure that rolls back is never taken for done.
 * A crash between the two leaves the lines unconfirmed; the database's
 * worker settles them afterwards from the database itself (restore.c).
 * A transaction holding such entries cannot be prepared (two-phase).
 *
 * A line cut short by a crash during a write is followed, at the next
 * append, by a "torn" line naming its length; readers skip the pair.
 *
 * Identity.  A database writes its lines under a ledger name
 * "uuid@system identifier/database OID" kept in retention.ledger_identity
 * (carried by dumps and backups), with the names of the ledgers it
 * descends from: restore.c compares the file with the database by them.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "extension.h"
#include "ledger_file.h"
#include "privilege.h"
#include "safe_spi.h"
#include "srf.h"
#include "subxact.h"

#define RT_LF_HASH_BYTES 16
#define RT_LF_HASH_HEX (RT_LF_HASH_BYTES * 2)
#define RT_LF_VERSION 1
/* how many times a lock is tried, 1 ms apart, before giving up (10 s) */
#define RT_LF_LOCK_TRIES 10000

#define RT_LF_HINT "See \"Backups and restores\" in docs/operations.md: the file is created on first use, and a database that wrote to it needs it back (restore it from its copy) or a new path in retention.ledger_file."

/* retention.ledger_file: absolute path of the ledger file, or empty */
static char *rt_ledger_file = NULL;

/* An error met by a file operation, raised or logged by the caller. */
typedef struct RtLfError
{
	int			code;
	char	   *message;
	char	   *detail;
} RtLfError;

/* An erasure queued by this transaction for the ledger file. */
typedef struct RtQueued
{
	SubTransactionId subid;
	char	   *entry_json;
} RtQueued;

/* this transaction's queued entries, its ledger and file (TopTransactionContext) */
static List *rt_queue = NIL;
static char *rt_queue_ledger = NULL;
static SubTransactionId rt_queue_ledger_subid = InvalidSubTransactionId;

/* lines written before the commit, to be confirmed or cancelled after it */
static bool rt_written = false;
static char rt_written_path[MAXPGPATH];
static char rt_written_txn[64];
static char rt_written_ledger[128];

static bool rt_callbacks_registered = false;

/* Check hook of retention.ledger_file: empty or an absolute path. */
static bool
rt_ledger_file_check(char **newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (*newval == NULL || (*newval)[0] == '\0' || is_absolute_path(*newval))
		return true;
	GUC_check_errdetail("The ledger file must be named by an absolute path outside the data directory.");
	return false;
}

/* Defines retention.ledger_file (called by _PG_init). */
void
rt_ledger_file_define_gucs(void)
{
	DefineCustomStringVariable("retention.ledger_file",
							   "File outside the data directory that records every committed erasure.",
							   "An absolute path; created on first use (mode 0600). Empty: erasures are recorded in the database only, and restores are recognized only when they moved to another database.",
							   &rt_ledger_file, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY,
							   rt_ledger_file_check, NULL, NULL);
}

/* Returns the configured path of the ledger file, or NULL when retention.ledger_file is empty. */
const char *
rt_ledger_file_path(void)
{
	return (rt_ledger_file == NULL || rt_ledger_file[0] == '\0') ? NULL : rt_ledger_file;
}

/* Returns the name of ledger uuid written from this database: "uuid@system/database". */
char *
rt_ledger_name_here(const char *uuid)
{
	return psprintf("%s@" UINT64_FORMAT "/%u", uuid, GetSystemIdentifier(), MyDatabaseId);
}

/* Returns the uuid part of a ledger name (a copy). */
char *
rt_ledger_uuid(const char *ledger)
{
	const char *at = strchr(ledger, '@');

	return at ? pnstrdup(ledger, at - ledger) : pstrdup(ledger);
}

/* Sets an RtLfError from errno for an operation on path. */
static void
rt_lf_errno(RtLfError *err, const char *what, const char *path)
{
	int			save = errno;

	err->code = save == ENOENT ? ERRCODE_UNDEFINED_FILE :
		(save == EACCES || save == EPERM) ? ERRCODE_INSUFFICIENT_PRIVILEGE : ERRCODE_IO_ERROR;
	err->message = psprintf("could not %s ledger file \"%s\": %s", what, path, strerror(save));
	err->detail = NULL;
}

/* Raises err at elevel (ERROR, or WARNING where an error cannot be raised). */
static void
rt_lf_report(const RtLfError *err, int elevel, const char *context)
{
	ereport(elevel,
			(errcode(err->code),
			 errmsg("%s", err->message),
			 err->detail ? errdetail("%s", err->detail) : (context ? errdetail("%s", context) : 0),
			 errhint(RT_LF_HINT)));
}

/* Computes the hash of a line: BLAKE2b-128 over the previous line's hash and this line's JSON. */
static void
rt_lf_hash(const unsigned char *prev, const char *json, size_t len, unsigned char *out)
{
	crypto_generichash_state state;

	crypto_generichash_init(&state, NULL, 0, RT_LF_HASH_BYTES);
	crypto_generichash_update(&state, prev, RT_LF_HASH_BYTES);
	crypto_generichash_update(&state, (const unsigned char *) json, len);
	crypto_generichash_final(&state, out, RT_LF_HASH_BYTES);
}

/* Appends to buf one line: json, a tab and its chained hash; advances prev. */
static void
rt_lf_append_line(StringInfo buf, const char *json, unsigned char *prev)
{
	unsigned char h[RT_LF_HASH_BYTES];
	char		hex[RT_LF_HASH_HEX + 1];

	rt_lf_hash(prev, json, strlen(json), h);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	appendStringInfo(buf, "%s\t%s\n", json, hex);
	memcpy(prev, h, RT_LF_HASH_BYTES);
}

/* Returns now as a JSON string in UTC (ISO 8601), without raising an error. */
static char *
rt_lf_now_json(void)
{
	int			utc = 0;
	char		buf[MAXDATELEN + 3];

	JsonEncodeDateTime(buf + 1, TimestampTzGetDatum(GetCurrentTimestamp()), TIMESTAMPTZOID, &utc);
	buf[0] = '"';
	strcat(buf, "\"");
	return pstrdup(buf);
}

/* Checks what an open ledger file is: a regular file of the server's user, mode 0600 or stricter. */
static bool
rt_lf_check_stat(const char *path, const struct stat *st, RtLfError *err)
{
	if (!S_ISREG(st->st_mode))
	{
		err->code = ERRCODE_CONFIG_FILE_ERROR;
		err->message = psprintf("ledger file \"%s\" is not a regular file", path);
		err->detail = pstrdup("A ledger file is a regular file of the server's operating-system user; reading anything else could block the session.");
		return false;
	}
	if (st->st_uid != geteuid())
	{
		err->code = ERRCODE_CONFIG_FILE_ERROR;
		err->message = psprintf("ledger file \"%s\" must be owned by the database server's operating-system user", path);
		err->detail = pstrdup("The server appends to it; a file of another user could be changed behind its back.");
		return false;
	}
	if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		err->code = ERRCODE_CONFIG_FILE_ERROR;
		err->message = psprintf("ledger file \"%s\" has group or world access", path);
		err->detail = pstrdup("Make it u=rw (0600): it names every erased subject by a token and when it was erased.");
		return false;
	}
	return true;
}

/*
 * Opens the ledger file for reading (shared lock) or appending (exclusive
 * lock) and checks what it is; false, with *err set and nothing open, on
 * failure.  Never raises an error: the commit callback uses it.
 */
static bool
rt_lf_open(const char *path, bool append, int *fd_out, RtLfError *err)
{
	struct stat st;
	int			fd;
	int			tries = 0;

	/* a FIFO or device named as the file is refused before open() could block on it */
	if (stat(path, &st) != 0)
	{
		rt_lf_errno(err, "access", path);
		return false;
	}
	if (!rt_lf_check_stat(path, &st, err))
		return false;
	fd = open(path, (append ? (O_RDWR | O_APPEND) : O_RDONLY) | O_NONBLOCK | O_NOCTTY | PG_BINARY);
	if (fd < 0)
	{
		rt_lf_errno(err, "open", path);
		return false;
	}
	if (fstat(fd, &st) != 0)
	{
		rt_lf_errno(err, "stat", path);
		close(fd);
		return false;
	}
	if (!rt_lf_check_stat(path, &st, err))
	{
		close(fd);
		return false;
	}
	while (flock(fd, (append ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0)
	{
		if ((errno != EWOULDBLOCK && errno != EINTR) || ++tries >= RT_LF_LOCK_TRIES)
		{
			rt_lf_errno(err, "lock", path);
			close(fd);
			return false;
		}
		pg_usleep(1000L);
	}
	*fd_out = fd;
	return true;
}

/* Unlocks and closes a ledger file. */
static void
rt_lf_close(int fd)
{
	(void) flock(fd, LOCK_UN);
	close(fd);
}

/* Reads count bytes at offset into buf; false with *err on failure. */
static bool
rt_lf_pread(int fd, const char *path, char *buf, size_t count, off_t offset, RtLfError *err)
{
	size_t		done = 0;

	while (done < count)
	{
		ssize_t		n = pread(fd, buf + done, count - done, offset + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (n == 0)
				errno = EIO;
			rt_lf_errno(err, "read", path);
			return false;
		}
		done += n;
	}
	return true;
}

/* Decodes the hash at the end of a line ("json\thex"); false when the line has no such ending. */
static bool
rt_lf_line_hash(const char *line, size_t len, unsigned char *out, size_t *json_len)
{
	size_t		binlen = 0;

	if (len < RT_LF_HASH_HEX + 2 || line[len - RT_LF_HASH_HEX - 1] != '\t')
		return false;
	if (sodium_hex2bin(out, RT_LF_HASH_BYTES, line + len - RT_LF_HASH_HEX, RT_LF_HASH_HEX,
					   NULL, &binlen, NULL) != 0 || binlen != RT_LF_HASH_BYTES)
		return false;
	*json_len = len - RT_LF_HASH_HEX - 1;
	return true;
}

/*
 * Finds the hash the next line chains from (that of the last complete
 * line) and the length of a torn line after it (0: none).
 */
static bool
rt_lf_tail(int fd, const char *path, unsigned char *prev, off_t *torn, RtLfError *err)
{
	struct stat st;
	off_t		window = 8192;

	if (fstat(fd, &st) != 0)
	{
		rt_lf_errno(err, "stat", path);
		return false;
	}
	for (;;)
	{
		off_t		start = st.st_size > window ? st.st_size - window : 0;
		size_t		len = st.st_size - start;
		char	   *buf = palloc(len + 1);
		ssize_t		last_nl = -1;
		ssize_t		prev_nl = -1;
		size_t		json_len;

		if (!rt_lf_pread(fd, path, buf, len, start, err))
			return false;
		for (ssize_t i = len - 1; i >= 0; i--)
		{
			if (buf[i] != '\n')
				continue;
			if (last_nl < 0)
				last_nl = i;
			else
			{
				prev_nl = i;
				break;
			}
		}
		if (last_nl >= 0 && (prev_nl >= 0 || start == 0))
		{
			*torn = len - (last_nl + 1);
			if (rt_lf_line_hash(buf + prev_nl + 1, last_nl - prev_nl - 1, prev, &json_len))
				return true;
			err->code = ERRCODE_DATA_CORRUPTED;
			err->message = psprintf("ledger file \"%s\" is damaged: its last line has no checksum", path);
			err->detail = pstrdup("Every line ends with a tab and 32 hexadecimal digits chained over the line before.");
			return false;
		}
		if (start == 0)
		{
			err->code = ERRCODE_DATA_CORRUPTED;
			err->message = psprintf("ledger file \"%s\" is damaged: it has no complete header line", path);
			err->detail = NULL;
			return false;
		}
		pfree(buf);
		window *= 4;
	}
}

/* Writes all of buf to fd and fsyncs it; false with *err on failure. */
static bool
rt_lf_write_all(int fd, const char *path, const char *buf, size_t len, RtLfError *err)
{
	size_t		done = 0;

	while (done < len)
	{
		ssize_t		n = write(fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (n == 0)
				errno = ENOSPC;
			rt_lf_errno(err, "write", path);
			return false;
		}
		done += n;
	}
	if (pg_fsync(fd) != 0)
	{
		rt_lf_errno(err, "fsync", path);
		return false;
	}
	return true;
}

/*
 * Appends lines (JSON texts) to the ledger file, chained, under an
 * exclusive lock, and fsyncs them; false with *err on failure.  A torn
 * line at the end is first closed and named by a "torn" line.
 */
static bool
rt_lf_append_lines(const char *path, List *jsons, RtLfError *err)
{
	int			fd;
	unsigned char prev[RT_LF_HASH_BYTES];
	off_t		torn = 0;
	StringInfoData buf;
	ListCell   *lc;
	bool		ok;

	if (!rt_lf_open(path, true, &fd, err))
		return false;
	if (!rt_lf_tail(fd, path, prev, &torn, err))
	{
		rt_lf_close(fd);
		return false;
	}
	initStringInfo(&buf);
	if (torn > 0)
	{
		appendStringInfoChar(&buf, '\n');
		rt_lf_append_line(&buf, psprintf("{\"type\": \"torn\", \"bytes\": " INT64_FORMAT ", \"at\": %s}",
										 (int64) torn, rt_lf_now_json()), prev);
	}
	foreach(lc, jsons)
		rt_lf_append_line(&buf, lfirst(lc), prev);
	ok = rt_lf_write_all(fd, path, buf.data, buf.len, err);
	rt_lf_close(fd);
	pfree(buf.data);
	return ok;
}

static void rt_lf_prepare_for_writing(RtLedgerIdentity *id, const char *path);

/* Appends lines to the ledger file now, fsynced, creating it first when needed; raises the error it meets. */
void
rt_ledger_file_append(List *lines)
{
	const char *path = rt_ledger_file_path();
	RtLfError	err;
	RtLedgerIdentity id;

	if (path == NULL || lines == NIL)
		return;
	(void) rt_ledger_identity_read(&id, true);
	rt_lf_prepare_for_writing(&id, path);
	if (!rt_lf_append_lines(path, lines, &err))
		rt_lf_report(&err, ERROR, NULL);
}

/* Returns true when the ledger file is expected to be there: it exists, or this database wrote to it. */
bool
rt_ledger_file_expected(const RtLedgerIdentity *id)
{
	const char *path = rt_ledger_file_path();
	struct stat st;

	if (path == NULL)
		return false;
	if (stat(path, &st) == 0 || errno != ENOENT)
		return true;
	return id->file_path != NULL && id->file_id != NULL && strcmp(id->file_path, path) == 0;
}

/* Raises an error unless path lies outside the data directory (and its directory exists). */
static void
rt_lf_require_outside_data_directory(const char *path)
{
	char		dir[MAXPGPATH];
	char	   *real_dir;
	char	   *real_data;
	size_t		n;
	bool		inside;

	strlcpy(dir, path, sizeof(dir));
	get_parent_directory(dir);
	real_dir = realpath(dir[0] ? dir : "/", NULL);
	if (real_dir == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not access the directory of ledger file \"%s\": %m", path),
				 errhint(RT_LF_HINT)));
	real_data = realpath(DataDir, NULL);
	n = real_data ? strlen(real_data) : 0;
	inside = real_data && strncmp(real_dir, real_data, n) == 0 && (real_dir[n] == '\0' || real_dir[n] == '/');
	free(real_dir);
	free(real_data);
	if (inside)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("ledger file \"%s\" is inside the data directory", path),
				 errdetail("A base backup would copy it with the data, and a server restored from it would read the ledger as it was then, without the erasures made since."),
				 errhint("Put it outside the data directory, for example beside the key file: /etc/postgresql/15/main/pg_retention.ledger.")));
}

/* Creates the ledger file with its header; false (and no error) when it exists already. */
static bool
rt_lf_create(const char *path, char **file_id)
{
	int			fd;
	char	   *id;
	StringInfoData buf;
	unsigned char prev[RT_LF_HASH_BYTES];
	RtLfError	err;
	char		dir[MAXPGPATH];

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0)
	{
		if (errno == EEXIST)
			return false;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create ledger file \"%s\": %m", path),
				 errhint(RT_LF_HINT)));
	}
	id = DatumGetCString(DirectFunctionCall1(uuid_out, DirectFunctionCall1(gen_random_uuid, (Datum) 0)));
	memset(prev, 0, sizeof(prev));
	initStringInfo(&buf);
	rt_lf_append_line(&buf, psprintf("{\"pg_retention_ledger\": %d, \"type\": \"header\", \"file_id\": \"%s\","
									 " \"system_identifier\": \"" UINT64_FORMAT "\", \"at\": %s}",
									 RT_LF_VERSION, id, GetSystemIdentifier(), rt_lf_now_json()), prev);
	if (!rt_lf_write_all(fd, path, buf.data, buf.len, &err))
	{
		close(fd);
		unlink(path);
		rt_lf_report(&err, ERROR, NULL);
	}
	close(fd);
	strlcpy(dir, path, sizeof(dir));
	get_parent_directory(dir);
	(void) fsync_fname_ext(dir[0] ? dir : "/", true, false, WARNING);
	*file_id = id;
	return true;
}

/* Returns the value of key in a JSON object container as text (strings unquoted), or NULL. */
static char *
rt_jb_text(JsonbContainer *c, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(c, key, strlen(key), &v) == NULL)
		return NULL;
	switch (v.type)
	{
		case jbvString:
			return pnstrdup(v.val.string.val, v.val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
		case jbvBool:
			return pstrdup(v.val.boolean ? "true" : "false");
		case jbvBinary:
			return JsonbToCString(NULL, v.val.binary.data, v.val.binary.len);
		default:
			return NULL;
	}
}

/* Returns the object under key of a JSON object container, or NULL. */
static JsonbContainer *
rt_jb_object(JsonbContainer *c, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(c, key, strlen(key), &v) == NULL || v.type != jbvBinary)
		return NULL;
	return v.val.binary.data;
}

/* Parses a timestamp the ledger file wrote; 0 when it is absent. */
static TimestampTz
rt_lf_time(const char *text)
{
	if (text == NULL)
		return 0;
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(text),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/* Where a scan of the ledger file is, for the error context. */
typedef struct RtLfScanPos
{
	const char *path;
	int			line;
} RtLfScanPos;

/* Error context of a scan: names the file and the line. */
static void
rt_lf_scan_context(void *arg)
{
	RtLfScanPos *pos = arg;

	errcontext("ledger file \"%s\", line %d", pos->path, pos->line);
}

/* Called for every checked line of the file: its number, JSON and the parsed object. */
typedef void (*RtLfLineFn) (int line, const char *json, Jsonb *jb, void *arg);

/* A scan's progress, kept so that the next scan of the same file goes on from there. */
typedef struct RtLfScan
{
	off_t		offset;			/* bytes checked so far: whole lines */
	int			line;			/* lines checked so far */
	unsigned char prev[RT_LF_HASH_BYTES];
	char	   *file_id;
} RtLfScan;

/* Raises the error of a damaged line. */
static void
rt_lf_damaged(const char *path, int line, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("ledger file \"%s\" is damaged at line %d: %s", path, line, what),
			 errdetail("Every line ends with a tab and a BLAKE2b-128 hash chained over the line before it; a line changed, removed, inserted or reordered breaks the chain there."),
			 errhint("Restore the file from its copy; retention.ledger_entries() fails on the same line. Until then restores cannot be recognized against it and erasures are refused.")));
}

/*
 * Checks the lines of the open file fd after scan's position and calls fn
 * for each (in a memory context reset after every line: fn copies what it
 * keeps); advances scan.  A line cut short at the very end (being written,
 * or left by a crash) is left for later; one inside the file must be
 * followed by the "torn" line that names it.
 */
static void
rt_lf_scan(int fd, const char *path, RtLfScan *scan, RtLfLineFn fn, void *arg)
{
	struct stat st;
	char	   *buf;
	size_t		len;
	size_t		pos = 0;
	off_t		base = scan->offset;
	RtLfScanPos where = {path, 0};
	ErrorContextCallback callback;
	RtLfError	err;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext line_cxt;

	if (fstat(fd, &st) != 0)
	{
		rt_lf_errno(&err, "stat", path);
		rt_lf_report(&err, ERROR, NULL);
	}
	if (st.st_size <= base)
		return;
	len = st.st_size - base;
	buf = palloc(len + 1);
	if (!rt_lf_pread(fd, path, buf, len, base, &err))
		rt_lf_report(&err, ERROR, NULL);
	buf[len] = '\0';
	line_cxt = AllocSetContextCreate(caller, "pg_retention ledger file line", ALLOCSET_DEFAULT_SIZES);

	callback.callback = rt_lf_scan_context;
	callback.arg = &where;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	while (pos < len)
	{
		char	   *nl = memchr(buf + pos, '\n', len - pos);
		size_t		line_len;
		size_t		json_len;
		unsigned char stated[RT_LF_HASH_BYTES];
		unsigned char computed[RT_LF_HASH_BYTES];
		Jsonb	   *jb;
		char	   *json;
		int			line = scan->line + 1;

		where.line = line;
		if (nl == NULL)
			break;				/* cut short at the end: not ours to judge yet */
		MemoryContextReset(line_cxt);
		MemoryContextSwitchTo(line_cxt);
		line_len = nl - (buf + pos);
		if (!rt_lf_line_hash(buf + pos, line_len, stated, &json_len) ||
			(rt_lf_hash(scan->prev, buf + pos, json_len, computed),
			 memcmp(computed, stated, RT_LF_HASH_BYTES) != 0))
		{
			/* a line a crash cut short, closed and named by the next writer? */
			char	   *next = nl + 1;
			char	   *next_nl = next < buf + len ? memchr(next, '\n', buf + len - next) : NULL;
			char	   *type;
			char	   *bytes;

			if (next_nl == NULL ||
				!rt_lf_line_hash(next, next_nl - next, stated, &json_len) ||
				(rt_lf_hash(scan->prev, next, json_len, computed),
				 memcmp(computed, stated, RT_LF_HASH_BYTES) != 0))
				rt_lf_damaged(path, line, "the line does not match its checksum");
			json = pnstrdup(next, json_len);
			jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
			type = JB_ROOT_IS_OBJECT(jb) ? rt_jb_text(&jb->root, "type") : NULL;
			bytes = JB_ROOT_IS_OBJECT(jb) ? rt_jb_text(&jb->root, "bytes") : NULL;
			if (type == NULL || strcmp(type, "torn") != 0 || bytes == NULL ||
				strtoll(bytes, NULL, 10) != (long long) line_len)
				rt_lf_damaged(path, line, "the line does not match its checksum");
			line++;
			where.line = line;
			line_len = next_nl - (buf + pos);	/* both lines */
		}
		else
		{
			json = pnstrdup(buf + pos, json_len);
			jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json)));
			if (!JB_ROOT_IS_OBJECT(jb))
				rt_lf_damaged(path, line, "the line is not a JSON object");
			if (line == 1)
			{
				char	   *version = rt_jb_text(&jb->root, "pg_retention_ledger");
				char	   *file_id = rt_jb_text(&jb->root, "file_id");

				if (version == NULL || file_id == NULL)
					rt_lf_damaged(path, line, "the first line is not the header of a pg_retention ledger file");
				if (atoi(version) != RT_LF_VERSION)
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("ledger file \"%s\" is of version %s, which this library does not read", path, version)));
				scan->file_id = MemoryContextStrdup(caller, file_id);
			}
		}
		fn(line, json, jb, arg);
		memcpy(scan->prev, computed, RT_LF_HASH_BYTES);
		scan->line = line;
		pos += line_len + 1;
		scan->offset = base + pos;
	}
	error_context_stack = callback.previous;
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(line_cxt);
	pfree(buf);
}

/* Opens the configured ledger file for reading, raising what is wrong with it. */
static int
rt_lf_open_for_reading(const char *path)
{
	int			fd;
	RtLfError	err;

	if (!rt_lf_open(path, false, &fd, &err))
		rt_lf_report(&err, ERROR, NULL);
	return fd;
}

/* Reads the file id from the header of the ledger file at path (checking the header line). */
static char *
rt_lf_file_id(const char *path)
{
	int			fd = rt_lf_open_for_reading(path);
	RtLfScan   *scan = palloc0(sizeof(RtLfScan));
	char		first[4096];
	ssize_t		n;
	char	   *nl;
	size_t		json_len;
	unsigned char stated[RT_LF_HASH_BYTES];
	unsigned char computed[RT_LF_HASH_BYTES];
	Jsonb	   *jb;
	char	   *id;

	n = pread(fd, first, sizeof(first) - 1, 0);
	rt_lf_close(fd);
	if (n < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read ledger file \"%s\": %m", path)));
	first[n] = '\0';
	nl = strchr(first, '\n');
	if (nl == NULL || !rt_lf_line_hash(first, nl - first, stated, &json_len) ||
		(rt_lf_hash(scan->prev, first, json_len, computed), memcmp(computed, stated, RT_LF_HASH_BYTES) != 0))
		rt_lf_damaged(path, 1, "the header line is missing or does not match its checksum");
	jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(pnstrdup(first, json_len))));
	id = JB_ROOT_IS_OBJECT(jb) ? rt_jb_text(&jb->root, "file_id") : NULL;
	if (id == NULL || rt_jb_text(&jb->root, "pg_retention_ledger") == NULL)
		rt_lf_damaged(path, 1, "the first line is not the header of a pg_retention ledger file");
	return id;
}

/* Returns a text[] Datum as a list of C strings. */
static List *
rt_text_array_list(Datum array)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	List	   *result = NIL;

	deconstruct_array(DatumGetArrayTypeP(array), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			result = lappend(result, TextDatumGetCString(elems[i]));
	return result;
}

/* Reads the oldest identity row into *id; false when there is none. */
static bool
rt_ledger_identity_fetch(RtLedgerIdentity *id)
{
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	Datum		v;

	rt_catalog_exec("SELECT ledger, ancestors, file_path, file_id::pg_catalog.text FROM retention.ledger_identity"
					" ORDER BY created_at, ctid LIMIT 1",
					0, NULL, NULL, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	id->ledger = TextDatumGetCString(SPI_getbinval(t, d, 1, &isnull));
	v = SPI_getbinval(t, d, 2, &isnull);
	id->ancestors = isnull ? NIL : rt_text_array_list(v);
	v = SPI_getbinval(t, d, 3, &isnull);
	id->file_path = isnull ? NULL : TextDatumGetCString(v);
	v = SPI_getbinval(t, d, 4, &isnull);
	id->file_id = isnull ? NULL : TextDatumGetCString(v);
	return true;
}

/* Reads this database's ledger identity; creates one for a new ledger when create and absent. */
bool
rt_ledger_identity_read(RtLedgerIdentity *id, bool create)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	memset(id, 0, sizeof(*id));
	if (rt_ledger_identity_fetch(id))
		return true;
	if (!create)
		return false;
	/* two sessions creating it at once would write under two names */
	rt_catalog_exec("LOCK TABLE retention.ledger_identity IN SHARE ROW EXCLUSIVE MODE",
					0, NULL, NULL, NULL, false, SPI_OK_UTILITY);
	if (rt_ledger_identity_fetch(id))
		return true;
	values[0] = CStringGetTextDatum(rt_ledger_name_here(""));
	rt_catalog_exec("INSERT INTO retention.ledger_identity (ledger)"
					" VALUES (pg_catalog.gen_random_uuid()::pg_catalog.text OPERATOR(pg_catalog.||) $1)",
					1, types, values, NULL, false, SPI_OK_INSERT);
	return rt_ledger_identity_fetch(id);
}

/* Replaces the ledger identity by *id. */
void
rt_ledger_identity_write(const RtLedgerIdentity *id)
{
	Oid			types[4] = {TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = "    ";

	values[0] = CStringGetTextDatum(id->ledger);
	values[1] = rt_text_array(id->ancestors);
	values[2] = id->file_path ? CStringGetTextDatum(id->file_path) : (Datum) 0;
	nulls[2] = id->file_path ? ' ' : 'n';
	values[3] = id->file_id ? CStringGetTextDatum(id->file_id) : (Datum) 0;
	nulls[3] = id->file_id ? ' ' : 'n';
	rt_catalog_exec("DELETE FROM retention.ledger_identity", 0, NULL, NULL, NULL, false, SPI_OK_DELETE);
	rt_catalog_exec("INSERT INTO retention.ledger_identity (ledger, ancestors, file_path, file_id)"
					" VALUES ($1, $2, $3, $4::pg_catalog.uuid)",
					4, types, values, nulls, false, SPI_OK_INSERT);
}

/*
 * Makes sure the configured file can take this database's entries: a new
 * file is created, an existing one checked (outside the data directory, a
 * regular file of the server's user, mode 0600, a ledger header); a file
 * this database wrote to before must still be there and be the same one.
 * Records the file in the identity.
 */
static void
rt_lf_prepare_for_writing(RtLedgerIdentity *id, const char *path)
{
	struct stat st;
	char	   *file_id = NULL;
	bool		same_path = id->file_path != NULL && strcmp(id->file_path, path) == 0;

	rt_lf_require_outside_data_directory(path);
	while (file_id == NULL)
	{
		if (stat(path, &st) != 0 && errno == ENOENT)
		{
			if (same_path && id->file_id != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_FILE),
						 errmsg("ledger file \"%s\" is missing", path),
						 errdetail("This database has recorded erasures in it (file id %s); a new file would lack them.", id->file_id),
						 errhint("Restore the file from its copy, or point retention.ledger_file at a new path to start another file.")));
			if (rt_lf_create(path, &file_id))
				break;
			continue;			/* another session created it meanwhile */
		}
		file_id = rt_lf_file_id(path);
	}
	if (same_path && id->file_id != NULL && strcmp(id->file_id, file_id) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("ledger file \"%s\" is not the one this database recorded its erasures in", path),
				 errdetail("Its file id is %s; this database wrote to file %s.", file_id, id->file_id),
				 errhint("Restore the right file there, or point retention.ledger_file at a new path to start another file.")));
	if (!same_path || id->file_id == NULL || strcmp(id->file_id, file_id) != 0)
	{
		Oid			types[2] = {TEXTOID, TEXTOID};
		Datum		values[2];

		values[0] = CStringGetTextDatum(path);
		values[1] = CStringGetTextDatum(file_id);
		rt_catalog_exec("UPDATE retention.ledger_identity SET file_path = $1, file_id = $2::pg_catalog.uuid",
						2, types, values, NULL, false, SPI_OK_UPDATE);
		id->file_path = pstrdup(path);
		id->file_id = file_id;
	}
}

/* Forgets this transaction's queue (at its end). */
static void
rt_lf_reset_queue(void)
{
	rt_queue = NIL;
	rt_queue_ledger = NULL;
	rt_queue_ledger_subid = InvalidSubTransactionId;
}

/* Returns the JSON line that names this transaction's outcome. */
static char *
rt_lf_outcome_line(const char *type)
{
	return psprintf("{\"type\": \"%s\", \"ledger\": \"%s\", \"txn\": \"%s\", \"at\": %s}",
					type, rt_written_ledger, rt_written_txn, rt_lf_now_json());
}

/* Appends the queued entries before the commit; an error here aborts the transaction. */
static void
rt_lf_pre_commit(void)
{
	const char *path = rt_ledger_file_path();
	FullTransactionId fxid = GetTopFullTransactionIdIfAny();
	List	   *lines = NIL;
	char	   *at;
	ListCell   *lc;
	RtLfError	err;

	if (rt_queue == NIL)
		return;
	if (path == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("retention.ledger_file was emptied during a transaction that erased data subjects"),
				 errhint("Commit erasures with the setting as it was when they were made.")));
	strlcpy(rt_written_path, path, sizeof(rt_written_path));
	strlcpy(rt_written_ledger, rt_queue_ledger, sizeof(rt_written_ledger));
	snprintf(rt_written_txn, sizeof(rt_written_txn), UINT64_FORMAT ":" UINT64_FORMAT,
			 GetSystemIdentifier(), U64FromFullTransactionId(fxid));
	at = rt_lf_now_json();
	foreach(lc, rt_queue)
		lines = lappend(lines, psprintf("{\"type\": \"erasure\", \"ledger\": \"%s\", \"txn\": \"%s\", \"at\": %s, \"entry\": %s}",
										rt_written_ledger, rt_written_txn, at,
										((RtQueued *) lfirst(lc))->entry_json));
	if (!rt_lf_append_lines(path, lines, &err))
		rt_lf_report(&err, ERROR, "The transaction that erased data subjects was rolled back: an erasure the ledger file does not record would not be replayed after a restore.");
	rt_written = true;
}

/* Appends the outcome line after the commit or abort; can only warn. */
static void
rt_lf_after_end(bool committed)
{
	RtLfError	err;

	if (!rt_written)
		return;
	rt_written = false;
	/* the confirmation must not reach the file before the commit is durable */
	if (committed && !XLogRecPtrIsInvalid(XactLastCommitEnd))
		XLogFlush(XactLastCommitEnd);
	if (!rt_lf_append_lines(rt_written_path, list_make1(rt_lf_outcome_line(committed ? "commit" : "abort")), &err))
		ereport(WARNING,
				(errcode(err.code),
				 errmsg("%s", err.message),
				 errdetail("Transaction %s %s, but the ledger file could not be told: its erasure lines stay unconfirmed until the database's worker settles them.",
						   rt_written_txn, committed ? "committed" : "rolled back"),
				 errhint(RT_LF_HINT)));
}

/* Transaction callback: writes queued entries before the commit, their outcome after it. */
static void
rt_lf_xact_callback(XactEvent event, void *arg)
{
	(void) arg;
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			rt_lf_pre_commit();
			break;
		case XACT_EVENT_PRE_PREPARE:
			if (rt_queue != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that erased data subjects while retention.ledger_file is set"),
						 errdetail("The ledger file records an erasure when its transaction commits; a prepared transaction commits later, perhaps in another session.")));
			break;
		case XACT_EVENT_COMMIT:
			rt_lf_after_end(true);
			rt_lf_reset_queue();
			break;
		case XACT_EVENT_ABORT:
			rt_lf_after_end(false);
			rt_lf_reset_queue();
			break;
		default:
			break;
	}
}

/* Subtransaction callback: entries of a subtransaction that rolls back are dropped. */
static void
rt_lf_subxact_callback(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	(void) arg;
	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, rt_queue)
			if (((RtQueued *) lfirst(lc))->subid == mySubid)
				((RtQueued *) lfirst(lc))->subid = parentSubid;
		if (rt_queue_ledger_subid == mySubid)
			rt_queue_ledger_subid = parentSubid;
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, rt_queue)
			if (((RtQueued *) lfirst(lc))->subid == mySubid)
				rt_queue = foreach_delete_current(rt_queue, lc);
		/* the identity it read may have been created in that subtransaction */
		if (rt_queue_ledger_subid == mySubid)
		{
			rt_queue_ledger = NULL;
			rt_queue_ledger_subid = InvalidSubTransactionId;
		}
	}
}

/* Queues ledger entries for the ledger file at commit; see ledger_file.h. */
void
rt_ledger_file_queue(SPITupleTable *tuptable, uint64 n, int column)
{
	const char *path = rt_ledger_file_path();
	List	   *entries = NIL;
	MemoryContext old;
	ListCell   *lc;

	if (path == NULL || n == 0 || !rt_sql_objects_at_least("0.3.0"))
		return;
	old = MemoryContextSwitchTo(TopTransactionContext);
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(tuptable->vals[i], tuptable->tupdesc, column, &isnull);

		if (!isnull)
			entries = lappend(entries, TextDatumGetCString(d));
	}
	MemoryContextSwitchTo(old);
	if (!rt_callbacks_registered)
	{
		RegisterXactCallback(rt_lf_xact_callback, NULL);
		RegisterSubXactCallback(rt_lf_subxact_callback, NULL);
		rt_callbacks_registered = true;
	}
	if (rt_queue_ledger == NULL)
	{
		RtLedgerIdentity id;

		(void) rt_ledger_identity_read(&id, true);
		rt_lf_prepare_for_writing(&id, path);
		/* written from here: a copy that moved has its own name before it knows (restore.c) */
		rt_queue_ledger = MemoryContextStrdup(TopTransactionContext, rt_ledger_name_here(rt_ledger_uuid(id.ledger)));
		rt_queue_ledger_subid = GetCurrentSubTransactionId();
	}
	old = MemoryContextSwitchTo(TopTransactionContext);
	foreach(lc, entries)
	{
		RtQueued   *q = palloc(sizeof(RtQueued));

		q->subid = GetCurrentSubTransactionId();
		q->entry_json = lfirst(lc);
		rt_queue = lappend(rt_queue, q);
	}
	MemoryContextSwitchTo(old);
}

/* ---- reading ---- */

/* A version of an erasure entry, in file order. */
typedef struct RtLfVersion
{
	RtFileTxn  *txn;
	char	   *entry_json;
	char	   *status;
	int			line;
} RtLfVersion;

/* What the file holds about one erasure: its versions (the hash entry's payload). */
typedef struct RtLfErasureVersions
{
	char		erasure_id[37];
	List	   *versions;
} RtLfErasureVersions;

/* What a scan of the file collects for rt_ledger_file_read, kept in cxt. */
typedef struct RtLfCollect
{
	List	   *ledgers;
	RtLedgerFileState *state;
	HTAB	   *versions;		/* RtLfErasureVersions by erasure id */
	MemoryContext cxt;
} RtLfCollect;

/* Returns true when ledger is one of the ledgers asked for. */
static bool
rt_lf_wanted(List *ledgers, const char *ledger)
{
	ListCell   *lc;

	foreach(lc, ledgers)
		if (strcmp(lfirst(lc), ledger) == 0)
			return true;
	return false;
}

/* Returns a transaction's hash key: its name, zero-padded. */
static void
rt_lf_txn_key(const char *txn, char *key)
{
	memset(key, 0, 48);
	strlcpy(key, txn, 48);
}

/* Collects one line into the state (an RtLfLineFn); what it keeps goes to c->cxt. */
static void
rt_lf_collect_line(int line, const char *json, Jsonb *jb, void *arg)
{
	RtLfCollect *c = arg;
	char	   *type = rt_jb_text(&jb->root, "type");
	char	   *ledger = rt_jb_text(&jb->root, "ledger");
	char	   *txn = rt_jb_text(&jb->root, "txn");
	char		key[48];

	(void) json;
	c->state->lines = line;
	if (type == NULL)
		return;					/* the header */
	if (strcmp(type, "erasure") == 0 && ledger && txn && rt_lf_wanted(c->ledgers, ledger))
	{
		JsonbContainer *entry = rt_jb_object(&jb->root, "entry");
		char	   *id = entry ? rt_jb_text(entry, "erasure_id") : NULL;
		RtFileTxn  *t;
		RtLfErasureVersions *e;
		RtLfVersion *v;
		bool		found;
		char		id_key[37];

		if (id == NULL || strlen(id) != 36)
			rt_lf_damaged(c->state->path, line, "an erasure line without an erasure id");
		rt_lf_txn_key(txn, key);
		t = hash_search(c->state->txns, key, HASH_ENTER, &found);
		if (!found)
		{
			char	   *colon = strchr(txn, ':');

			t->ledger = MemoryContextStrdup(c->cxt, ledger);
			t->outcome = '?';
			t->system = strtou64(txn, NULL, 10);
			t->xid = colon ? strtou64(colon + 1, NULL, 10) : 0;
			t->at = rt_lf_time(rt_jb_text(&jb->root, "at"));
			t->erasure_ids = NIL;
		}
		strlcpy(id_key, id, sizeof(id_key));
		e = hash_search(c->versions, id_key, HASH_ENTER, &found);
		if (!found)
			e->versions = NIL;
		{
			MemoryContext old = MemoryContextSwitchTo(c->cxt);
			char	   *status = rt_jb_text(entry, "status");

			t->erasure_ids = lappend(t->erasure_ids, pstrdup(id));
			v = palloc(sizeof(RtLfVersion));
			v->txn = t;
			v->entry_json = JsonbToCString(NULL, entry, 256);
			v->status = status ? status : "done";
			v->line = line;
			e->versions = lappend(e->versions, v);
			MemoryContextSwitchTo(old);
		}
	}
	else if ((strcmp(type, "commit") == 0 || strcmp(type, "abort") == 0) && txn)
	{
		RtFileTxn  *t;

		rt_lf_txn_key(txn, key);
		t = hash_search(c->state->txns, key, HASH_FIND, NULL);
		if (t != NULL)
			t->outcome = type[0] == 'c' ? 'c' : 'a';
	}
	else if (strcmp(type, "anchor") == 0 && ledger && c->ledgers != NIL &&
			 strcmp(ledger, linitial(c->ledgers)) == 0)
	{
		char	   *seq = rt_jb_text(&jb->root, "seq");
		char	   *hash = rt_jb_text(&jb->root, "hash");
		int64		s = seq ? strtoi64(seq, NULL, 10) : 0;

		if (s > 0 && hash != NULL && s >= c->state->anchor_seq)
		{
			c->state->anchor_seq = s;
			c->state->anchor_hash = MemoryContextStrdup(c->cxt, hash);
			c->state->anchor_at = rt_lf_time(rt_jb_text(&jb->root, "at"));
		}
	}
}

/* The state a backend keeps of the file between reads, to read only what was appended. */
typedef struct RtLfCache
{
	MemoryContext cxt;
	char	   *path;
	dev_t		dev;
	ino_t		ino;
	char	   *ledgers_key;	/* the ledgers asked for, joined */
	RtLfScan	scan;
	RtLfCollect collect;
} RtLfCache;

static RtLfCache *rt_lf_cache = NULL;

/* Returns the ledgers asked for as one string, to recognize the same request. */
static char *
rt_lf_ledgers_key(List *ledgers)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, ledgers)
		appendStringInfo(&buf, "%s;", (char *) lfirst(lc));
	return buf.data;
}

/* Builds the erasures of the state from their versions: the last that did not abort. */
static void
rt_lf_settle_erasures(RtLfCache *cache)
{
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	RtLfErasureVersions *e;
	RtLedgerFileState *state = cache->collect.state;

	if (state->erasures)
		hash_destroy(state->erasures);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = 37;
	ctl.entrysize = sizeof(RtFileErasure);
	ctl.hcxt = cache->cxt;
	state->erasures = hash_create("pg_retention ledger file erasures", 256, &ctl,
								  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	hash_seq_init(&seq, cache->collect.versions);
	while ((e = hash_seq_search(&seq)) != NULL)
	{
		RtLfVersion *chosen = NULL;
		ListCell   *lc;

		/* the last committed version, or else the last unconfirmed one */
		foreach(lc, e->versions)
		{
			RtLfVersion *v = lfirst(lc);

			if (v->txn->outcome == 'c')
				chosen = v;
		}
		if (chosen == NULL)
			foreach(lc, e->versions)
				if (((RtLfVersion *) lfirst(lc))->txn->outcome == '?')
					chosen = lfirst(lc);
		if (chosen != NULL)
		{
			RtFileErasure *f = hash_search(state->erasures, e->erasure_id, HASH_ENTER, NULL);

			f->ledger = chosen->txn->ledger;
			f->txn = chosen->txn->txn;
			f->entry_json = chosen->entry_json;
			f->status = chosen->status;
			f->line = chosen->line;
			f->at = chosen->txn->at;
			f->outcome = chosen->txn->outcome;
		}
	}
}

/* Reads the file for ledgers (see ledger_file.h), raising what is wrong. */
static RtLedgerFileState *
rt_lf_read_raising(List *ledgers)
{
	const char *path = rt_ledger_file_path();
	char	   *key;
	int			fd;
	struct stat st;
	RtLfCache  *cache = rt_lf_cache;

	if (path == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("retention.ledger_file is empty"),
				 errhint("Set it to an absolute path outside the data directory (docs/operations.md, \"Backups and restores\").")));
	rt_lf_require_outside_data_directory(path);
	key = rt_lf_ledgers_key(ledgers);
	fd = rt_lf_open_for_reading(path);
	PG_TRY();
	{
		if (fstat(fd, &st) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat ledger file \"%s\": %m", path)));
		/* another file, a file that shrank or other ledgers asked for: read it afresh */
		if (cache != NULL &&
			(strcmp(cache->path, path) != 0 || cache->dev != st.st_dev || cache->ino != st.st_ino ||
			 strcmp(cache->ledgers_key, key) != 0 || st.st_size < cache->scan.offset))
		{
			MemoryContextDelete(cache->cxt);
			cache = rt_lf_cache = NULL;
		}
		if (cache == NULL)
		{
			MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "pg_retention ledger file",
													  ALLOCSET_DEFAULT_SIZES);
			HASHCTL		ctl;
			ListCell   *lc;

			cache = MemoryContextAllocZero(cxt, sizeof(RtLfCache));
			cache->cxt = cxt;
			cache->path = MemoryContextStrdup(cxt, path);
			cache->dev = st.st_dev;
			cache->ino = st.st_ino;
			cache->ledgers_key = MemoryContextStrdup(cxt, key);
			cache->collect.cxt = cxt;
			{
				MemoryContext old = MemoryContextSwitchTo(cxt);

				foreach(lc, ledgers)
					cache->collect.ledgers = lappend(cache->collect.ledgers, pstrdup(lfirst(lc)));
				MemoryContextSwitchTo(old);
			}
			cache->collect.state = MemoryContextAllocZero(cxt, sizeof(RtLedgerFileState));
			cache->collect.state->path = cache->path;
			memset(&ctl, 0, sizeof(ctl));
			ctl.keysize = 48;
			ctl.entrysize = sizeof(RtFileTxn);
			ctl.hcxt = cxt;
			cache->collect.state->txns = hash_create("pg_retention ledger file transactions", 256, &ctl,
													 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
			memset(&ctl, 0, sizeof(ctl));
			ctl.keysize = 37;
			ctl.entrysize = sizeof(RtLfErasureVersions);
			ctl.hcxt = cxt;
			cache->collect.versions = hash_create("pg_retention ledger file versions", 256, &ctl,
										  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
			rt_lf_cache = cache;
		}
		{
			MemoryContext old = MemoryContextSwitchTo(cache->cxt);

			rt_lf_scan(fd, path, &cache->scan, rt_lf_collect_line, &cache->collect);
			MemoryContextSwitchTo(old);
		}
		cache->collect.state->file_id = cache->scan.file_id;
		rt_lf_settle_erasures(cache);
	}
	PG_CATCH();
	{
		rt_lf_close(fd);
		/* what a failed scan left half-read is not to be continued */
		if (rt_lf_cache != NULL)
		{
			MemoryContextDelete(rt_lf_cache->cxt);
			rt_lf_cache = NULL;
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	rt_lf_close(fd);
	if (cache->scan.line == 0)
		rt_lf_damaged(path, 1, "the file has no complete header line");
	return cache->collect.state;
}

/* Arguments and result of a read in a subtransaction. */
typedef struct RtLfReadStep
{
	List	   *ledgers;
	RtLedgerFileState *state;
} RtLfReadStep;

/* Reads the file (a step for rt_in_subtransaction). */
static void
rt_lf_read_step(void *arg)
{
	RtLfReadStep *step = arg;

	step->state = rt_lf_read_raising(step->ledgers);
}

/* Reads and checks the ledger file for ledgers; see ledger_file.h. */
RtLedgerFileState *
rt_ledger_file_read(List *ledgers, ErrorData **problem)
{
	RtLfReadStep step = {ledgers, NULL};

	if (problem == NULL)
		return rt_lf_read_raising(ledgers);
	*problem = rt_in_subtransaction(rt_lf_read_step, &step, CurrentMemoryContext);
	return *problem ? NULL : step.state;
}

/* ---- retention.ledger_entries() ---- */

/* A line as retention.ledger_entries() lists it. */
typedef struct RtLfListed
{
	int			line;
	char	   *type;
	char	   *ledger;
	char	   *txn;
	char	   *erasure_id;
	char	   *kind;
	char	   *subject_hash;
	char	   *status;
	char	   *at;
} RtLfListed;

/* The lines listed so far, kept in cxt. */
typedef struct RtLfListing
{
	List	   *lines;
	MemoryContext cxt;
} RtLfListing;

/* Lists every line (an RtLfLineFn). */
static void
rt_lf_list_line(int line, const char *json, Jsonb *jb, void *arg)
{
	RtLfListing *listing = arg;
	MemoryContext old = MemoryContextSwitchTo(listing->cxt);
	RtLfListed *l = palloc0(sizeof(RtLfListed));
	JsonbContainer *entry = rt_jb_object(&jb->root, "entry");

	(void) json;
	l->line = line;
	l->type = rt_jb_text(&jb->root, "type");
	if (l->type == NULL)
		l->type = "header";
	l->ledger = rt_jb_text(&jb->root, "ledger");
	l->txn = rt_jb_text(&jb->root, "txn");
	l->at = rt_jb_text(&jb->root, "at");
	if (entry)
	{
		l->erasure_id = rt_jb_text(entry, "erasure_id");
		l->kind = rt_jb_text(entry, "kind");
		l->subject_hash = rt_jb_text(entry, "subject_hash");
		l->status = rt_jb_text(entry, "status");
	}
	listing->lines = lappend(listing->lines, l);
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(retention_ledger_entries);

/* SQL: retention.ledger_entries() lists the checked lines of the ledger file. */
Datum
retention_ledger_entries(PG_FUNCTION_ARGS)
{
	RtSrf		srf;
	const char *path = rt_ledger_file_path();
	RtLfListing listing = {NIL, CurrentMemoryContext};
	List	   *lines;
	RtLfScan	scan;
	int			fd;
	ListCell   *lc;
	Oid			auditor = get_role_oid("retention_auditor", true);

	if (!(OidIsValid(auditor) && has_privs_of_role(GetUserId(), auditor)))
		rt_require_role(RT_OFFICER_ROLE, "read the ledger file");
	if (path == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("retention.ledger_file is empty"),
				 errhint("Set it to an absolute path outside the data directory (docs/operations.md, \"Backups and restores\").")));
	rt_srf_begin(fcinfo, &srf);
	memset(&scan, 0, sizeof(scan));
	fd = rt_lf_open_for_reading(path);
	PG_TRY();
	{
		rt_lf_scan(fd, path, &scan, rt_lf_list_line, &listing);
	}
	PG_FINALLY();
	{
		rt_lf_close(fd);
	}
	PG_END_TRY();
	if (scan.line == 0)
		rt_lf_damaged(path, 1, "the file has no complete header line");
	lines = listing.lines;
	foreach(lc, lines)
	{
		RtLfListed *l = lfirst(lc);
		Datum		values[10];
		bool		nulls[10];

		memset(nulls, 0, sizeof(nulls));
		values[0] = Int64GetDatum(l->line);
		values[1] = CStringGetTextDatum(l->type);
#define RT_PUT_TEXT(i, s) do { nulls[i] = (s) == NULL; values[i] = (s) ? CStringGetTextDatum(s) : (Datum) 0; } while (0)
		RT_PUT_TEXT(2, l->ledger);
		RT_PUT_TEXT(3, l->txn);
		nulls[4] = l->erasure_id == NULL;
		values[4] = l->erasure_id ? DirectFunctionCall1(uuid_in, CStringGetDatum(l->erasure_id)) : (Datum) 0;
		RT_PUT_TEXT(5, l->kind);
		RT_PUT_TEXT(6, l->subject_hash);
		RT_PUT_TEXT(7, l->status);
#undef RT_PUT_TEXT
		nulls[8] = true;
		if (strcmp(l->type, "erasure") == 0)
		{
			const char *outcome = "unconfirmed";
			ListCell   *later;

			/* the transaction's end, recorded after its lines */
			for_each_cell(later, lines, lnext(lines, lc))
			{
				RtLfListed *o = lfirst(later);

				if (o->txn && strcmp(o->txn, l->txn) == 0 &&
					(strcmp(o->type, "commit") == 0 || strcmp(o->type, "abort") == 0))
				{
					outcome = strcmp(o->type, "commit") == 0 ? "committed" : "aborted";
					break;
				}
			}
			values[8] = CStringGetTextDatum(outcome);
			nulls[8] = false;
		}
		nulls[9] = l->at == NULL;
		values[9] = l->at ? TimestampTzGetDatum(rt_lf_time(l->at)) : (Datum) 0;
		rt_srf_put(&srf, values, nulls);
	}
	return (Datum) 0;
}
