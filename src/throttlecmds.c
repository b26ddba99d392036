/*
 * throttlecmds.c
 *    retention.set_throttle(policy_id, throttle): a policy's own choice of
 *    fixed or adaptive runs, over the setting retention.throttle
 *    (docs/reference.md#retentionset_throttle; the modes: throttle.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "audit.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"

PG_FUNCTION_INFO_V1(retention_set_throttle);

/* SQL: retention.set_throttle(policy_id, throttle) sets or (NULL) clears a policy's own throttle. */
Datum
retention_set_throttle(PG_FUNCTION_ARGS)
{
	int64		policy_id;
	char	   *mode = NULL;
	RtPolicy   *p;
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("policy_id must not be null")));
	policy_id = PG_GETARG_INT64(0);
	if (!PG_ARGISNULL(1))
	{
		mode = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (strcmp(mode, "fixed") != 0 && strcmp(mode, "adaptive") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown throttle \"%s\"", mode),
					 errhint("Use 'fixed' or 'adaptive', or NULL for what retention.throttle says.")));
	}

	SPI_connect();
	p = rt_policy_get_for_update(policy_id);
	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("retention policy " INT64_FORMAT " does not exist", policy_id),
				 errhint("See retention.policies for the declared policies.")));
	rt_require_table_owner(p->relid, "set the throttle of its retention policy");
	values[0] = Int64GetDatum(policy_id);
	values[1] = mode ? CStringGetTextDatum(mode) : (Datum) 0;
	if (mode)
		rt_catalog_exec("INSERT INTO retention.policy_throttle (policy_id, throttle) VALUES ($1, $2)"
						" ON CONFLICT (policy_id) DO UPDATE SET throttle = EXCLUDED.throttle",
						2, types, values, NULL, false, SPI_OK_INSERT);
	else
		rt_catalog_exec("DELETE FROM retention.policy_throttle WHERE policy_id OPERATOR(pg_catalog.=) $1",
						1, types, values, NULL, false, SPI_OK_DELETE);
	rt_audit_append("policy_throttle", p->relid, -1,
					psprintf("{\"policy_id\": " INT64_FORMAT ", \"throttle\": %s}", policy_id,
							 mode ? rt_json_quote(mode) : "null"));
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(retention_policy_throttle_dropped);

/*
 * SQL: retention.policy_throttle_dropped(), a row trigger after DELETE on
 * retention.policy_catalog: the dropped policy's own throttle goes too (the
 * tables pg_dump keeps reference no other, so no foreign key does it).
 */
Datum
retention_policy_throttle_dropped(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	bool		isnull;
	int			attnum;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("retention.policy_throttle_dropped() must be called as a row trigger on DELETE")));
	attnum = SPI_fnumber(RelationGetDescr(trigdata->tg_relation), "policy_id");
	values[0] = heap_getattr(trigdata->tg_trigtuple, attnum, RelationGetDescr(trigdata->tg_relation), &isnull);
	if (isnull)
		return PointerGetDatum(NULL);
	SPI_connect();
	rt_catalog_exec("DELETE FROM retention.policy_throttle WHERE policy_id OPERATOR(pg_catalog.=) $1",
					1, types, values, NULL, false, SPI_OK_DELETE);
	SPI_finish();
	return PointerGetDatum(NULL);
}
