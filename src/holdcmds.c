/*
 * holdcmds.c
 *    The SQL commands of legal holds: retention.hold, retention.hold_table
 *    and retention.release (docs/reference.md#legal-holds).
 *
 * Placing and releasing holds is for superusers and members of
 * retention_officer.  Each takes the hold lock exclusively (hold.c), so a
 * hold is never placed between a purge batch's or an erasure's look at
 * the holds and its commit; a release carries out the pending erasures
 * whose holds have all ended.
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "erasure.h"
#include "erasure_ledger.h"
#include "extension.h"
#include "hold.h"
#include "privilege.h"
#include "quote.h"
#include "subject.h"

/* Checks reason and until of a new hold. */
static void
rt_check_hold_args(FunctionCallInfo fcinfo, int reason_arg, int until_arg)
{
	if (PG_ARGISNULL(reason_arg) ||
		strspn(text_to_cstring(PG_GETARG_TEXT_PP(reason_arg)), " \t\r\n") ==
		strlen(text_to_cstring(PG_GETARG_TEXT_PP(reason_arg))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a legal hold needs a reason"),
				 errhint("Say why the data must be kept, such as the court order or the request it answers.")));
	if (!PG_ARGISNULL(until_arg) &&
		PG_GETARG_TIMESTAMPTZ(until_arg) <= GetCurrentTransactionStartTimestamp())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a legal hold cannot end in the past (%s)",
						timestamptz_to_str(PG_GETARG_TIMESTAMPTZ(until_arg))),
				 errhint("Give a future time, or NULL for a hold that lasts until it is released.")));
}

/* Inserts a hold and records it in the audit trail; returns its id. */
static int64
rt_insert_hold(const char *kind, const char *id, Oid relid, Datum reason, bool until_null, Datum until)
{
	Oid			types[6] = {TEXTOID, TEXTOID, OIDOID, TEXTOID, TIMESTAMPTZOID, NAMEOID};
	Datum		values[6];
	char		nulls[6] = "      ";
	NameData	creator;
	bool		isnull;
	int64		hold_id;
	char	   *details;
	char	   *token;

	values[0] = kind ? CStringGetTextDatum(kind) : (Datum) 0;
	nulls[0] = kind ? ' ' : 'n';
	values[1] = id ? CStringGetTextDatum(id) : (Datum) 0;
	nulls[1] = id ? ' ' : 'n';
	values[2] = ObjectIdGetDatum(relid);
	nulls[2] = OidIsValid(relid) ? ' ' : 'n';
	values[3] = reason;
	values[4] = until;
	nulls[4] = until_null ? 'n' : ' ';
	namestrcpy(&creator, GetUserNameFromId(GetUserId(), false));
	values[5] = NameGetDatum(&creator);
	rt_catalog_exec("INSERT INTO retention.hold_catalog (kind, subject_id, relid, reason, until, created_by)"
					" VALUES ($1, $2, $3, $4, $5, $6) RETURNING hold_id",
					6, types, values, nulls, false, SPI_OK_INSERT_RETURNING);
	hold_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	token = id ? rt_erasure_subject_token(kind, id) : NULL;
	details = psprintf("{\"hold_id\": " INT64_FORMAT ", \"kind\": %s, \"subject\": %s, \"reason\": %s, \"until\": %s}",
					   hold_id, kind ? rt_json_quote(kind) : "null",
					   token ? rt_json_quote(token) : "null",
					   rt_json_quote(TextDatumGetCString(reason)),
					   until_null ? "null" : rt_json_quote(timestamptz_to_str(DatumGetTimestampTz(until))));
	rt_audit_append(kind ? "hold" : "hold_table", relid, -1, details);
	return hold_id;
}

PG_FUNCTION_INFO_V1(retention_hold);

/* SQL: retention.hold(kind, id, reason, until) places a legal hold on one data subject. */
Datum
retention_hold(PG_FUNCTION_ARGS)
{
	char	   *kind;
	char	   *id;
	RtSubjectKind *k;
	int64		hold_id;

	rt_subject_request_args(fcinfo, "place a legal hold", &kind, &id);
	rt_check_hold_args(fcinfo, 2, 3);
	rt_holds_lock_exclusive();
	SPI_connect();
	k = rt_subject_kind(kind);
	/* held by the canonical text of the key, as erasures look it up */
	id = rt_subject_canonical_id(k, rt_subject_key_datum(k, id, true));
	hold_id = rt_insert_hold(kind, id, InvalidOid, PG_GETARG_DATUM(2), PG_ARGISNULL(3),
							 PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3));
	SPI_finish();
	PG_RETURN_INT64(hold_id);
}

PG_FUNCTION_INFO_V1(retention_hold_table);

/* SQL: retention.hold_table(tbl, reason, until) places a legal hold on a whole table. */
Datum
retention_hold_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int64		hold_id;
	char		relkind;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl must not be null")));
	relid = PG_GETARG_OID(0);
	rt_require_role(RT_OFFICER_ROLE, "place a legal hold");
	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (IsCatalogRelationOid(relid) ||
		strcmp(get_namespace_name(get_rel_namespace(relid)), "retention") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is a system catalog or one of pg_retention's own tables", rt_relation_name(relid)),
				 errhint("Legal holds apply to the tables that hold the data.")));
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", rt_relation_name(relid)),
				 errhint("Legal holds apply to ordinary and partitioned tables.")));
	rt_check_hold_args(fcinfo, 1, 2);
	rt_holds_lock_exclusive();
	SPI_connect();
	hold_id = rt_insert_hold(NULL, NULL, relid, PG_GETARG_DATUM(1), PG_ARGISNULL(2),
							 PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2));
	SPI_finish();
	PG_RETURN_INT64(hold_id);
}

PG_FUNCTION_INFO_V1(retention_release);

/* SQL: retention.release(hold_id) ends a legal hold and completes the erasures it kept pending. */
Datum
retention_release(PG_FUNCTION_ARGS)
{
	int64		hold_id;
	Oid			types[2] = {INT8OID, NAMEOID};
	Datum		values[2];
	bool		isnull;
	bool		was_released;
	Oid			relid;
	NameData	releaser;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("hold_id must not be null")));
	hold_id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(hold_id);
	rt_require_role(RT_OFFICER_ROLE, "release a legal hold");
	rt_holds_lock_exclusive();
	SPI_connect();
	rt_catalog_exec("SELECT released_at IS NOT NULL, relid::pg_catalog.oid FROM retention.hold_catalog"
					" WHERE hold_id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
					1, types, values, NULL, false, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("legal hold " INT64_FORMAT " does not exist", hold_id),
				 errhint("See retention.holds.")));
	was_released = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (isnull)
		relid = InvalidOid;
	if (was_released)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("legal hold " INT64_FORMAT " was already released", hold_id)));
	namestrcpy(&releaser, GetUserNameFromId(GetUserId(), false));
	values[1] = NameGetDatum(&releaser);
	rt_catalog_exec("UPDATE retention.hold_catalog SET released_at = pg_catalog.now(), released_by = $2"
					" WHERE hold_id OPERATOR(pg_catalog.=) $1",
					2, types, values, NULL, false, SPI_OK_UPDATE);
	rt_audit_append("release", relid, -1, psprintf("{\"hold_id\": " INT64_FORMAT "}", hold_id));
	/* erasures that waited for this hold go ahead now, in this transaction */
	rt_erasure_complete_pending();
	SPI_finish();
	PG_RETURN_VOID();
}
