/*
 * key.c
 *    The pseudonymization key: retention.key_file, loading, guarded
 *    memory, derived subkeys, retention.create_key() and
 *    retention.key_fingerprint().
 *
 * The key is 32 random bytes kept in a file outside the database, written
 * as 64 hexadecimal digits and a newline.  A session reads it the first
 * time it needs it into memory from sodium_malloc(): guard pages around
 * it, locked out of swap and core dumps, and mprotect'ed so that it cannot
 * be read at all while it is not being used.  The root key is readable
 * only for the instant a subkey is derived from it; the per-context
 * pseudonym subkeys are readable only inside a transaction that uses them
 * (one mprotect() at the first use and one at the end of the transaction,
 * not two per row).
 *
 * Subkeys are derived with crypto_kdf_derive_from_key().  A pseudonym
 * context is any text, while the KDF takes a 64-bit subkey id, so the id
 * of a context is the first 8 bytes of a BLAKE2b hash of the context text
 * keyed with a subkey of its own: ids cannot be steered into colliding
 * without the key.
 *
 * Only a regular file is read: the path is stat()ed before it is opened,
 * and opened without blocking, so that a FIFO, a device or a directory
 * named as the key file is an error at once instead of a session stuck in
 * open() where no cancel reaches it.
 *
 * Before the first use in each transaction the file is stat()ed; a change
 * of retention.key_file or of the file (another inode, size or mtime)
 * makes the session load the key again, and a file that is gone is an
 * error, never a silent fallback to the key still in memory.  The key
 * itself never reaches an error message, a log line, a table or
 * pg_settings; only the path does, and only superusers see it.
 *
 * The parser of a key file's text is pure C (and libsodium), built alone by
 * tests/fuzz (RT_FUZZ_STANDALONE leaves out the rest of the file).
 */
#include "postgres.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "audit.h"
#include "key.h"
#include "subxact.h"

#define RT_KEY_HEX_LEN (RT_KEY_BYTES * 2)

/* a key file longer than this is malformed; read one byte more to notice */
#define RT_KEY_FILE_MAX (RT_KEY_HEX_LEN + 2)

/* pseudonym contexts whose subkeys a session keeps */
#define RT_CONTEXT_SLOTS 32

/* KDF contexts: exactly crypto_kdf_CONTEXTBYTES (8) characters each */
#define RT_KDF_FINGERPRINT	"rtfinger"
#define RT_KDF_CONTEXT_MAP	"rtctxmap"
#define RT_KDF_PSEUDONYM	"rtpseudo"

#define RT_KEY_HINT "Create a key with SELECT retention.create_key() as a superuser, or point retention.key_file at an existing key file (see \"The pseudonymization key\" in docs/operations.md)."

StaticAssertDecl(sizeof(RT_KDF_FINGERPRINT) - 1 == crypto_kdf_CONTEXTBYTES, "KDF context length");
StaticAssertDecl(RT_KEY_BYTES == crypto_kdf_KEYBYTES, "key length");

/* Returns true when text is exactly 64 hexadecimal digits and an optional line end. */
static bool
rt_key_text_valid(const char *text, size_t len)
{
	if (len == RT_KEY_HEX_LEN + 1 && text[RT_KEY_HEX_LEN] == '\n')
		len--;
	else if (len == RT_KEY_HEX_LEN + 2 && text[RT_KEY_HEX_LEN] == '\r' &&
			 text[RT_KEY_HEX_LEN + 1] == '\n')
		len -= 2;
	if (len != RT_KEY_HEX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		char		c = text[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* Decodes the text of a key file into key; false (key zeroed) when it is malformed. */
bool
rt_key_text_parse(const char *text, size_t len, unsigned char *key)
{
	size_t		binlen = 0;

	if (rt_key_text_valid(text, len) &&
		sodium_hex2bin(key, RT_KEY_BYTES, text, RT_KEY_HEX_LEN, NULL, &binlen, NULL) == 0 &&
		binlen == RT_KEY_BYTES)
		return true;
	sodium_memzero(key, RT_KEY_BYTES);
	return false;
}

#ifndef RT_FUZZ_STANDALONE

/* retention.key_file: path of the key file, relative to the data directory unless absolute */
static char *rt_key_file = NULL;

/* Subkeys in guarded memory: readable only inside a transaction that uses them. */
typedef struct RtSubkeys
{
	unsigned char map_key[RT_KEY_BYTES];	/* keys the hash from context to subkey id */
	unsigned char keys[RT_CONTEXT_SLOTS][RT_KEY_BYTES];
} RtSubkeys;

/* What a subkey slot holds (not secret: the context text and its use). */
typedef struct RtContextSlot
{
	char	   *context;		/* in TopMemoryContext */
	int			len;
	uint64		last_used;
	bool		used;
} RtContextSlot;

/* The identity of the file the key was read from, to notice replacement. */
typedef struct RtKeyFileId
{
	char	   *path;
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	time_t		mtime;
	long		mtime_nsec;
} RtKeyFileId;

static unsigned char *rt_root = NULL;	/* guarded; no access while idle */
static RtSubkeys *rt_subkeys = NULL;	/* guarded; read-only while open */
static bool rt_loaded = false;			/* rt_root holds the key of rt_file */
static bool rt_stale = true;			/* retention.key_file changed since the load */
static bool rt_open = false;			/* rt_subkeys readable in this transaction */
static bool rt_callback_registered = false;
static RtKeyFileId rt_file;
static char rt_fingerprint[RT_KEY_FINGERPRINT_LEN + 1];
static RtContextSlot rt_slots[RT_CONTEXT_SLOTS];
static int	rt_last_slot = -1;
static uint64 rt_use_clock = 0;

/* Assign hook of retention.key_file: the next use re-reads the key. */
static void
rt_key_file_assign(const char *newval pg_attribute_unused(), void *extra pg_attribute_unused())
{
	rt_stale = true;
}

/* Defines the setting retention.key_file (called by _PG_init). */
void
rt_key_define_gucs(void)
{
	DefineCustomStringVariable("retention.key_file",
							   "File holding the pseudonymization key of retention.pseudonym().",
							   "64 hexadecimal digits (a 256-bit key); relative paths start at the data directory. The file must not be readable by group or others.",
							   &rt_key_file, "",
							   PGC_SUSET, GUC_SUPERUSER_ONLY,
							   NULL, rt_key_file_assign, NULL);
}

/* protections of guarded memory */
#define RT_NOACCESS 0
#define RT_READONLY 1
#define RT_READWRITE 2

/* Changes the protection of guarded memory; failure cannot happen on a sane system. */
static void
rt_protect(void *ptr, int mode)
{
	int			rc;

	if (mode == RT_NOACCESS)
		rc = sodium_mprotect_noaccess(ptr);
	else if (mode == RT_READONLY)
		rc = sodium_mprotect_readonly(ptr);
	else
		rc = sodium_mprotect_readwrite(ptr);
	if (rc != 0)
		elog(ERROR, "could not change the protection of guarded key memory: %m");
}

/* Allocates the guarded regions once per session, both inaccessible. */
static void
rt_vault_alloc(void)
{
	if (rt_root != NULL)
		return;
	rt_root = sodium_malloc(RT_KEY_BYTES);
	rt_subkeys = sodium_malloc(sizeof(RtSubkeys));
	if (rt_root == NULL || rt_subkeys == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not allocate guarded memory for the pseudonymization key")));
	sodium_memzero(rt_root, RT_KEY_BYTES);
	sodium_memzero(rt_subkeys, sizeof(RtSubkeys));
	rt_protect(rt_root, RT_NOACCESS);
	rt_protect(rt_subkeys, RT_NOACCESS);
}

/* Zeroes the key and every subkey and forgets the contexts. */
static void
rt_key_forget(void)
{
	rt_protect(rt_root, RT_READWRITE);
	sodium_memzero(rt_root, RT_KEY_BYTES);
	rt_protect(rt_root, RT_NOACCESS);
	rt_protect(rt_subkeys, RT_READWRITE);
	sodium_memzero(rt_subkeys, sizeof(RtSubkeys));
	rt_protect(rt_subkeys, rt_open ? RT_READONLY : RT_NOACCESS);
	for (int i = 0; i < RT_CONTEXT_SLOTS; i++)
	{
		if (rt_slots[i].context)
			pfree(rt_slots[i].context);
		rt_slots[i].context = NULL;
		rt_slots[i].used = false;
	}
	rt_last_slot = -1;
	rt_loaded = false;
	rt_fingerprint[0] = '\0';
}

/* Writes the first bytes of a fingerprint subkey as hexadecimal text into out. */
static void
rt_fingerprint_text(const unsigned char *key, char *out)
{
	unsigned char fp[crypto_kdf_BYTES_MIN];

	crypto_kdf_derive_from_key(fp, sizeof(fp), 1, RT_KDF_FINGERPRINT, key);
	sodium_bin2hex(out, RT_KEY_FINGERPRINT_LEN + 1, fp, RT_KEY_FINGERPRINT_LEN / 2);
	sodium_memzero(fp, sizeof(fp));
}

/* Raises an error unless path is configured. */
static const char *
rt_key_path(void)
{
	if (rt_key_file == NULL || rt_key_file[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no pseudonymization key is configured"),
				 errdetail("retention.key_file is empty."),
				 errhint(RT_KEY_HINT)));
	return rt_key_file;
}

/* Names the kind of a file that is not a regular file, for messages. */
static const char *
rt_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO (named pipe)";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

/* Raises an error unless st describes a regular file: reading anything else could block or never end. */
static void
rt_require_regular_file(const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pseudonymization key file \"%s\" is not a regular file", path),
				 errdetail("It is %s; a key file is a regular file of 64 hexadecimal digits, and reading anything else could block the session.",
						   rt_file_kind(st->st_mode)),
				 errhint(RT_KEY_HINT)));
}

/* Raises an error when the key file is not a regular file or its owner or permissions are unsafe. */
static void
rt_check_key_file_stat(const char *path, const struct stat *st)
{
	rt_require_regular_file(path, st);
	if (st->st_uid != geteuid() && st->st_uid != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pseudonymization key file \"%s\" must be owned by the database user or root", path),
				 errhint("chown it to the operating-system user the server runs as.")));
	if ((st->st_uid == geteuid() && (st->st_mode & (S_IRWXG | S_IRWXO)) != 0) ||
		(st->st_uid == 0 && (st->st_mode & (S_IWGRP | S_IXGRP | S_IRWXO)) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pseudonymization key file \"%s\" has group or world access", path),
				 errdetail("A key readable by others lets them reverse pseudonyms by guessing values."),
				 errhint("Make it u=rw (0600) if the database user owns it, or u=rw,g=r (0640) if root owns it.")));
}

/* Returns true when the key file is the one the key was loaded from. */
static bool
rt_same_file(const char *path, const struct stat *st)
{
	return rt_file.path != NULL && strcmp(rt_file.path, path) == 0 &&
		rt_file.dev == st->st_dev && rt_file.ino == st->st_ino &&
		rt_file.size == st->st_size && rt_file.mtime == st->st_mtim.tv_sec &&
		rt_file.mtime_nsec == st->st_mtim.tv_nsec;
}

/*
 * Reads the key file into rt_root and derives the fingerprint and the
 * context-map key.  The file's text is held in guarded memory too and
 * zeroed before any error is raised.
 */
static void
rt_key_load(const char *path)
{
	int			fd;
	struct stat st;
	char	   *text;
	ssize_t		len;
	bool		valid;

	rt_vault_alloc();
	rt_key_forget();

	/*
	 * Only a regular file is opened: open() of a FIFO waits for a writer, and
	 * of a device may wait or have effects, and no cancel or terminate
	 * request interrupts it.  O_NONBLOCK covers a file swapped for a FIFO
	 * after the stat(); the fstat() below checks what was opened.
	 */
	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open pseudonymization key file \"%s\": %m", path),
				 errhint(RT_KEY_HINT)));
	rt_require_regular_file(path, &st);

	/* a transient file is closed by the abort of an error below */
	fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open pseudonymization key file \"%s\": %m", path),
				 errhint(RT_KEY_HINT)));
	if (fstat(fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat pseudonymization key file \"%s\": %m", path)));
	rt_check_key_file_stat(path, &st);

	text = sodium_malloc(RT_KEY_FILE_MAX + 1);
	if (text == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not allocate guarded memory for the pseudonymization key")));
	len = read(fd, text, RT_KEY_FILE_MAX + 1);
	if (len < 0)
	{
		int			save_errno = errno;

		sodium_free(text);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read pseudonymization key file \"%s\": %m", path)));
	}
	CloseTransientFile(fd);

	rt_protect(rt_root, RT_READWRITE);
	valid = rt_key_text_parse(text, (size_t) len, rt_root);
	if (valid)
	{
		rt_fingerprint_text(rt_root, rt_fingerprint);
		rt_protect(rt_subkeys, RT_READWRITE);
		crypto_kdf_derive_from_key(rt_subkeys->map_key, RT_KEY_BYTES, 1,
								   RT_KDF_CONTEXT_MAP, rt_root);
		rt_protect(rt_subkeys, rt_open ? RT_READONLY : RT_NOACCESS);
	}
	rt_protect(rt_root, RT_NOACCESS);
	sodium_free(text);			/* zeroes it */
	if (!valid)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("pseudonymization key file \"%s\" is malformed", path),
				 errdetail("A key file holds 64 hexadecimal digits (a 256-bit key) and an optional line end, nothing else."),
				 errhint(RT_KEY_HINT)));

	if (rt_file.path)
		pfree(rt_file.path);
	rt_file.path = MemoryContextStrdup(TopMemoryContext, path);
	rt_file.dev = st.st_dev;
	rt_file.ino = st.st_ino;
	rt_file.size = st.st_size;
	rt_file.mtime = st.st_mtim.tv_sec;
	rt_file.mtime_nsec = st.st_mtim.tv_nsec;
	rt_loaded = true;
	rt_stale = false;
}

/* Makes sure the key of the configured file is loaded, re-reading it when it changed. */
static void
rt_key_ensure_loaded(void)
{
	const char *path = rt_key_path();
	struct stat st;

	if (rt_loaded && !rt_stale)
	{
		if (stat(path, &st) != 0)
		{
			int			save_errno = errno;

			rt_key_forget();
			errno = save_errno;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not access pseudonymization key file \"%s\": %m", path),
					 errhint(RT_KEY_HINT)));
		}
		if (rt_same_file(path, &st))
			return;
	}
	rt_key_load(path);
}

/* Transaction callback: makes the subkeys unreadable again at the end of a transaction. */
static void
rt_key_xact_callback(XactEvent event, void *arg pg_attribute_unused())
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			if (rt_open)
			{
				rt_open = false;
				rt_protect(rt_subkeys, RT_NOACCESS);
			}
			break;
		default:
			break;
	}
}

/* Loads the key if needed and makes the subkeys readable for the rest of the transaction. */
static void
rt_vault_open(void)
{
	/* a key forgotten after an error must be loaded again, never used zeroed */
	if (rt_open && rt_loaded && !rt_stale)
		return;
	rt_key_ensure_loaded();
	if (!rt_callback_registered)
	{
		RegisterXactCallback(rt_key_xact_callback, NULL);
		rt_callback_registered = true;
	}
	if (!rt_open)
	{
		rt_protect(rt_subkeys, RT_READONLY);
		rt_open = true;
	}
}

/* Derives the subkey of a context into slot i. */
static void
rt_derive_context_slot(int i, const char *context, int len)
{
	unsigned char idhash[crypto_generichash_BYTES_MIN];
	uint64		id = 0;

	if (!rt_loaded)
		elog(ERROR, "pseudonymization key is not loaded");
	crypto_generichash(idhash, sizeof(idhash), (const unsigned char *) context, len,
					   rt_subkeys->map_key, RT_KEY_BYTES);
	/* little-endian, so that ids are the same on every platform */
	for (int b = 7; b >= 0; b--)
		id = (id << 8) | idhash[b];
	sodium_memzero(idhash, sizeof(idhash));

	rt_protect(rt_subkeys, RT_READWRITE);
	rt_protect(rt_root, RT_READONLY);
	crypto_kdf_derive_from_key(rt_subkeys->keys[i], RT_KEY_BYTES, id, RT_KDF_PSEUDONYM, rt_root);
	rt_protect(rt_root, RT_NOACCESS);
	rt_protect(rt_subkeys, RT_READONLY);

	if (rt_slots[i].context)
		pfree(rt_slots[i].context);
	rt_slots[i].context = MemoryContextAlloc(TopMemoryContext, Max(len, 1));
	memcpy(rt_slots[i].context, context, len);
	rt_slots[i].len = len;
	rt_slots[i].used = true;
}

/* Returns the pseudonymization subkey of a context; readable until the end of the transaction. */
const unsigned char *
rt_key_pseudonym_subkey(const char *context, int len)
{
	int			victim = 0;

	rt_vault_open();
	if (rt_last_slot >= 0 && rt_slots[rt_last_slot].len == len &&
		memcmp(rt_slots[rt_last_slot].context, context, len) == 0)
		return rt_subkeys->keys[rt_last_slot];

	for (int i = 0; i < RT_CONTEXT_SLOTS; i++)
	{
		if (rt_slots[i].used && rt_slots[i].len == len &&
			memcmp(rt_slots[i].context, context, len) == 0)
		{
			rt_slots[i].last_used = ++rt_use_clock;
			rt_last_slot = i;
			return rt_subkeys->keys[i];
		}
		if (!rt_slots[i].used)
		{
			if (rt_slots[victim].used)
				victim = i;
		}
		else if (rt_slots[victim].used && rt_slots[i].last_used < rt_slots[victim].last_used)
			victim = i;
	}
	rt_derive_context_slot(victim, context, len);
	rt_slots[victim].last_used = ++rt_use_clock;
	rt_last_slot = victim;
	return rt_subkeys->keys[victim];
}

/* Derives outlen bytes from the root key for subkey_id in context ctx. */
void
rt_key_derive(uint64 subkey_id, const char *ctx, unsigned char *out, size_t outlen)
{
	if (outlen < crypto_kdf_BYTES_MIN || outlen > crypto_kdf_BYTES_MAX ||
		strlen(ctx) != crypto_kdf_CONTEXTBYTES)
		elog(ERROR, "invalid key derivation request");
	rt_key_ensure_loaded();
	if (!rt_loaded)
		elog(ERROR, "pseudonymization key is not loaded");
	rt_protect(rt_root, RT_READONLY);
	crypto_kdf_derive_from_key(out, outlen, subkey_id, ctx, rt_root);
	rt_protect(rt_root, RT_NOACCESS);
}

/* Returns the fingerprint of the configured key, loading it first if needed. */
const char *
rt_key_fingerprint(void)
{
	rt_key_ensure_loaded();
	return rt_fingerprint;
}

/* Returns the fingerprint of the key this session has loaded, or NULL. */
const char *
rt_key_loaded_fingerprint(void)
{
	return rt_loaded ? rt_fingerprint : NULL;
}

/* Returns NULL when retention.key_file names a readable file, else what is wrong. */
const char *
rt_key_problem(void)
{
	struct stat st;

	if (rt_key_file == NULL || rt_key_file[0] == '\0')
		return "retention.key_file is empty";
	if (stat(rt_key_file, &st) != 0 || !S_ISREG(st.st_mode))
		return psprintf("retention.key_file names \"%s\", which is not a readable file", rt_key_file);
	return NULL;
}

/* Loads the configured key (a step for rt_in_subtransaction). */
static void
rt_key_load_step(void *arg)
{
	(void) arg;
	rt_key_ensure_loaded();
}

/*
 * Returns NULL when the configured key loads, else the message of the error
 * loading it raises (missing, unreadable, malformed, open to others), in a
 * subtransaction of its own so that the caller goes on.
 */

const char *
rt_key_load_problem(void)
{
	ErrorData  *edata = rt_in_subtransaction(rt_key_load_step, NULL, CurrentMemoryContext);
	char	   *problem;

	if (edata == NULL)
		return NULL;
	problem = pstrdup(edata->message);
	FreeErrorData(edata);
	return problem;
}

PG_FUNCTION_INFO_V1(retention_key_fingerprint);

/* SQL: retention.key_fingerprint() names the key in use without revealing it. */
Datum
retention_key_fingerprint(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(rt_key_fingerprint()));
}

/* Writes len bytes to fd, raising an error (after removing the file) when that fails. */
static void
rt_write_key_file(int fd, const char *path, const char *buf, size_t len)
{
	size_t		done = 0;

	while (done < len)
	{
		ssize_t		n = write(fd, buf + done, len - done);

		if (n <= 0)
		{
			int			save_errno = n < 0 ? errno : ENOSPC;

			CloseTransientFile(fd);
			unlink(path);
			errno = save_errno;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write pseudonymization key file \"%s\": %m", path)));
		}
		done += n;
	}
	if (pg_fsync(fd) != 0)
	{
		int			save_errno = errno;

		CloseTransientFile(fd);
		unlink(path);
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync pseudonymization key file \"%s\": %m", path)));
	}
	if (CloseTransientFile(fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close pseudonymization key file \"%s\": %m", path)));
}

/* Appends a key_created entry naming the file and the new key's fingerprint. */
static void
rt_audit_key_created(const char *path, const char *fingerprint)
{
	StringInfoData details;

	initStringInfo(&details);
	appendStringInfoString(&details, "{\"path\": ");
	escape_json(&details, path);
	appendStringInfoString(&details, ", \"fingerprint\": ");
	escape_json(&details, fingerprint);
	appendStringInfoChar(&details, '}');
	SPI_connect();
	rt_audit_append("key_created", InvalidOid, -1, details.data);
	SPI_finish();
}

PG_FUNCTION_INFO_V1(retention_create_key);

/*
 * SQL: retention.create_key(path text DEFAULT NULL) writes a new random
 * key to a file that must not exist yet and returns its fingerprint.
 */
Datum
retention_create_key(PG_FUNCTION_ARGS)
{
	char	   *path;
	char	   *dir;
	unsigned char *key;
	char	   *hex;
	int			fd;
	char		fingerprint[RT_KEY_FINGERPRINT_LEN + 1];

	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser to create a pseudonymization key"),
				 errhint("The key file lives on the database server; ask a superuser.")));
	if (!PG_ARGISNULL(0))
		path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	else if (rt_key_file != NULL && rt_key_file[0] != '\0')
		path = pstrdup(rt_key_file);
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("retention.create_key() needs a path while retention.key_file is empty"),
				 errhint("Pass the path of the new key file, for example SELECT retention.create_key('/etc/postgresql/pg_retention.key'); then set retention.key_file to it.")));
	if (path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the path of a key file must not be empty"),
				 errhint("Pass a path, or leave it out to use retention.key_file.")));

	fd = OpenTransientFilePerm(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0)
	{
		if (errno == EEXIST)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_FILE),
					 errmsg("pseudonymization key file \"%s\" already exists", path),
					 errdetail("A key file is never overwritten: the pseudonyms made with its key could no longer be reproduced."),
					 errhint("To rotate the key, create the new key in another file and point retention.key_file at it.")));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create pseudonymization key file \"%s\": %m", path)));
	}

	key = sodium_malloc(RT_KEY_BYTES);
	hex = sodium_malloc(RT_KEY_HEX_LEN + 1);
	if (key == NULL || hex == NULL)
	{
		CloseTransientFile(fd);
		unlink(path);
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not allocate guarded memory for the pseudonymization key")));
	}
	randombytes_buf(key, RT_KEY_BYTES);
	sodium_bin2hex(hex, RT_KEY_HEX_LEN + 1, key, RT_KEY_BYTES);
	hex[RT_KEY_HEX_LEN] = '\n';
	rt_fingerprint_text(key, fingerprint);
	sodium_free(key);
	PG_TRY();
	{
		rt_write_key_file(fd, path, hex, RT_KEY_HEX_LEN + 1);
	}
	PG_FINALLY();
	{
		sodium_free(hex);
	}
	PG_END_TRY();

	/* make the new file's directory entry durable too */
	dir = pstrdup(path);
	get_parent_directory(dir);
	(void) fsync_fname_ext(dir[0] ? dir : ".", true, false, WARNING);

	if (rt_key_file != NULL && strcmp(rt_key_file, path) == 0)
		rt_stale = true;
	else
		ereport(NOTICE,
				(errmsg("pseudonymization key %s written to \"%s\"", fingerprint, path),
				 errhint("It is not in use until retention.key_file names it: ALTER SYSTEM SET retention.key_file = '%s'; SELECT pg_reload_conf();",
						 path)));
	rt_audit_key_created(path, fingerprint);
	PG_RETURN_TEXT_P(cstring_to_text(fingerprint));
}

#endif							/* RT_FUZZ_STANDALONE */
