/*
 * report.c
 *    retention.report(format): one document for a privacy officer or an
 *    auditor (docs/reference.md#retentionreportformat-text-default-markdown--text,
 *    docs/operations.md#the-compliance-report): the inventory of personal
 *    data with each policy's retention period and basis, the state of
 *    every policy, legal holds, erasure requests against their deadline,
 *    rows deleted and anonymized per week, and the audit chain verified
 *    with its latest anchor.
 *
 * The same content comes as Markdown or as one self-contained HTML page
 * (inline style, an inline SVG chart, a Content-Security-Policy that
 * forbids loading anything), so it can be mailed, archived or printed as
 * it is.  Every text that comes from the database (names, bases, reasons,
 * errors) is escaped for the format.  The report says what it could not
 * establish (a policy it could not count, a broken chain) rather than
 * leaving it out; it names data subjects only by kind, never by id.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "audit.h"
#include "extension.h"
#include "guc.h"
#include "metrics.h"
#include "policy.h"
#include "privilege.h"
#include "quote.h"
#include "safe_spi.h"
#include "scheduler.h"

/* weeks the chart of rows deleted and anonymized covers, the current one last */
#define RT_REPORT_WEEKS 12

/* most rows a list of runs or erasures shows before it says how many more there are */
#define RT_REPORT_MAX_ROWS 50

/* the format of timestamps in the report: to the second, with the UTC offset */
#define RT_REPORT_TS_FORMAT "YYYY-MM-DD HH24:MI:SSOF"

/* SQL: a timestamptz column as the report prints it */
#define RT_SQL_TS(col) "pg_catalog.to_char(" col ", '" RT_REPORT_TS_FORMAT "')"

/* The document being written: Markdown or HTML. */
typedef struct RtDoc
{
	StringInfoData buf;
	bool		html;
	int			ncols;			/* columns of the table being written */
} RtDoc;

/* Appends text escaped for the document's format. */
static void
rt_doc_text(RtDoc *doc, const char *s)
{
	for (; s && *s; s++)
	{
		char		c = *s;

		if (doc->html)
		{
			switch (c)
			{
				case '&':
					appendStringInfoString(&doc->buf, "&amp;");
					break;
				case '<':
					appendStringInfoString(&doc->buf, "&lt;");
					break;
				case '>':
					appendStringInfoString(&doc->buf, "&gt;");
					break;
				case '"':
					appendStringInfoString(&doc->buf, "&quot;");
					break;
				case '\'':
					appendStringInfoString(&doc->buf, "&#39;");
					break;
				default:
					appendStringInfoChar(&doc->buf, c);
			}
			continue;
		}
		/* Markdown: a line break would end a table row or a paragraph */
		if (c == '\n' || c == '\r')
			appendStringInfoChar(&doc->buf, ' ');
		else
		{
			if (strchr("\\`*_[]<>|#", c) != NULL)
				appendStringInfoChar(&doc->buf, '\\');
			appendStringInfoChar(&doc->buf, c);
		}
	}
}

/* Appends a heading of level 1 to 3. */
static void
rt_doc_heading(RtDoc *doc, int level, const char *title)
{
	if (doc->html)
	{
		appendStringInfo(&doc->buf, "<h%d>", level);
		rt_doc_text(doc, title);
		appendStringInfo(&doc->buf, "</h%d>\n", level);
	}
	else
	{
		appendStringInfoString(&doc->buf, level == 1 ? "# " : level == 2 ? "## " : "### ");
		rt_doc_text(doc, title);
		appendStringInfoString(&doc->buf, "\n\n");
	}
}

/* Appends a paragraph; attention marks one that needs action. */
static void
rt_doc_para(RtDoc *doc, bool attention, const char *text)
{
	if (doc->html)
	{
		appendStringInfoString(&doc->buf, attention ? "<p class=\"attention\">" : "<p>");
		rt_doc_text(doc, text);
		appendStringInfoString(&doc->buf, "</p>\n");
	}
	else
	{
		if (attention)
			appendStringInfoString(&doc->buf, "**Attention:** ");
		rt_doc_text(doc, text);
		appendStringInfoString(&doc->buf, "\n\n");
	}
}

/* Starts a table with ncols columns and their headers. */
static void
rt_doc_table(RtDoc *doc, int ncols, const char *const *headers)
{
	doc->ncols = ncols;
	if (doc->html)
	{
		appendStringInfoString(&doc->buf, "<table>\n<thead><tr>");
		for (int i = 0; i < ncols; i++)
		{
			appendStringInfoString(&doc->buf, "<th>");
			rt_doc_text(doc, headers[i]);
			appendStringInfoString(&doc->buf, "</th>");
		}
		appendStringInfoString(&doc->buf, "</tr></thead>\n<tbody>\n");
		return;
	}
	appendStringInfoChar(&doc->buf, '|');
	for (int i = 0; i < ncols; i++)
	{
		appendStringInfoChar(&doc->buf, ' ');
		rt_doc_text(doc, headers[i]);
		appendStringInfoString(&doc->buf, " |");
	}
	appendStringInfoString(&doc->buf, "\n|");
	for (int i = 0; i < ncols; i++)
		appendStringInfoString(&doc->buf, "---|");
	appendStringInfoChar(&doc->buf, '\n');
}

/* Appends a table row; attention marks one that needs action. */
static void
rt_doc_row(RtDoc *doc, bool attention, const char *const *cells)
{
	if (doc->html)
	{
		appendStringInfoString(&doc->buf, attention ? "<tr class=\"attention\">" : "<tr>");
		for (int i = 0; i < doc->ncols; i++)
		{
			appendStringInfoString(&doc->buf, "<td>");
			rt_doc_text(doc, cells[i]);
			appendStringInfoString(&doc->buf, "</td>");
		}
		appendStringInfoString(&doc->buf, "</tr>\n");
		return;
	}
	appendStringInfoChar(&doc->buf, '|');
	for (int i = 0; i < doc->ncols; i++)
	{
		appendStringInfoChar(&doc->buf, ' ');
		if (attention && i == 0)
			appendStringInfoString(&doc->buf, "**!** ");
		rt_doc_text(doc, cells[i]);
		appendStringInfoString(&doc->buf, " |");
	}
	appendStringInfoChar(&doc->buf, '\n');
}

/* Ends the table. */
static void
rt_doc_table_end(RtDoc *doc)
{
	appendStringInfoString(&doc->buf, doc->html ? "</tbody>\n</table>\n" : "\n");
}

/* Returns a timestamp as the report prints it. */
static char *
rt_report_ts(TimestampTz ts)
{
	return TextDatumGetCString(DirectFunctionCall2(timestamptz_to_char, TimestampTzGetDatum(ts),
												   CStringGetTextDatum(RT_REPORT_TS_FORMAT)));
}

/* Returns a length of time in words, to the unit that matters. */
static char *
rt_report_duration(double seconds)
{
	if (seconds < 120)
		return psprintf("%.0f s", seconds);
	if (seconds < 2 * 3600)
		return psprintf("%.0f min", seconds / 60);
	if (seconds < 2 * 86400)
		return psprintf("%.0f h", seconds / 3600);
	return psprintf("%.0f days", seconds / 86400);
}

/* Returns a count as text. */
static char *
rt_report_int(int64 n)
{
	return psprintf(INT64_FORMAT, n);
}

/* Runs a read-only query on the extension's catalogs and returns its rows (SPI_tuptable stays valid). */
static SPITupleTable *
rt_report_query(const char *sql, uint64 *nrows)
{
	rt_catalog_exec(sql, 0, NULL, NULL, NULL, true, SPI_OK_SELECT);
	*nrows = SPI_processed;
	return SPI_tuptable;
}

/* Returns column col (from 1) of row as text, "" for NULL. */
static char *
rt_report_cell(SPITupleTable *t, uint64 row, int col)
{
	char	   *v = SPI_getvalue(t->vals[row], t->tupdesc, col);

	return v ? v : "";
}

/* Returns column col (from 1) of row as an int64 (0 for NULL). */
static int64
rt_report_int64(SPITupleTable *t, uint64 row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(t->vals[row], t->tupdesc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/* the most columns a report table has */
#define RT_REPORT_MAX_COLS 16

/* Rewrites the cells of one report row where they need words, and returns true when the row needs attention. */
typedef bool (*RtReportRowHook) (const char **cells);

/*
 * Writes the first ncols columns of the n rows of t as a table under
 * headers, each row through hook (if given), or the paragraph empty (marked
 * for attention when empty_attention) when there is no row.
 */
static void
rt_report_rows(RtDoc *doc, SPITupleTable *t, uint64 n, int ncols, const char *const *headers,
			   const char *empty, bool empty_attention, RtReportRowHook hook)
{
	Assert(ncols <= RT_REPORT_MAX_COLS);
	if (n == 0)
	{
		rt_doc_para(doc, empty_attention, empty);
		return;
	}
	rt_doc_table(doc, ncols, headers);
	for (uint64 i = 0; i < n; i++)
	{
		const char *cells[RT_REPORT_MAX_COLS];

		for (int c = 0; c < ncols; c++)
			cells[c] = rt_report_cell(t, i, c + 1);
		rt_doc_row(doc, hook != NULL && hook(cells), cells);
	}
	rt_doc_table_end(doc);
}

/* Row hook of the policy table: a delete policy's columns say nothing; a disabled policy or one without a basis needs attention. */
static bool
rt_report_policy_row(const char **cells)
{
	if (strcmp(cells[2], "delete") == 0)
		cells[5] = "";
	return strcmp(cells[8], "no") == 0 || cells[6][0] == '\0';
}

/* Row hook that marks every row for attention. */
static bool
rt_report_attention_row(const char **cells)
{
	(void) cells;
	return true;
}

/* Row hook of the hold table: a hold without an end lasts until released. */
static bool
rt_report_hold_row(const char **cells)
{
	if (strcmp(cells[5], "released") == 0)
		cells[5] = "until released";
	return false;
}

/* Row hook of the pending erasures: one past its deadline needs attention. */
static bool
rt_report_pending_row(const char **cells)
{
	return strcmp(cells[5], "yes") == 0;
}

/* What the summary needs from the sections below it. */
typedef struct RtReportFacts
{
	int64		columns;		/* tagged personal columns */
	int64		tables;			/* tables that hold them */
	int64		uncovered;		/* of those, tables without an enabled policy */
	int64		policies;
	int64		enabled;
	int64		overdue;		/* rows overdue now, over the policies counted */
	int64		overdue_policies;
	double		oldest_overdue; /* seconds the oldest overdue row is past its cutoff */
	int64		uncounted;		/* enabled policies that could not be counted */
	int64		failing;		/* policies with failed or incomplete runs since their last success */
	const char *scheduler;		/* NULL when a scheduler runs this database, else why not */
	int64		holds_active;
	int64		holds_ended;
	int64		received;
	int64		pending;
	int64		pending_late;
	int64		done;
	int64		done_late;
	int64		not_applied;
	bool		audit_ok;
	int64		audit_entries;
	int64		audit_first_bad;
	bool		has_anchor;
	int64		anchor_seq;
	char	   *anchor_hash;
	char	   *anchor_at;
	char	   *anchor_via;
	bool		anchor_ok;
	int64		anchor_first_bad;
	int64		head_seq;
	bytea	   *head_bytes;
	char	   *head_hash;		/* NULL for an empty trail */
} RtReportFacts;

/* Gathers the counts the summary shows. */
static void
rt_report_facts(RtReportFacts *f, List *states)
{
	SPITupleTable *t;
	uint64		n;
	ListCell   *lc;

	memset(f, 0, sizeof(*f));
	t = rt_report_query("SELECT pg_catalog.count(*), pg_catalog.count(DISTINCT (c.schema_name, c.table_name)),"
						" (SELECT pg_catalog.count(*) FROM (SELECT DISTINCT u.schema_name, u.table_name"
						"   FROM retention.personal_columns u WHERE NOT EXISTS (SELECT 1 FROM retention.policy_catalog p"
						"   WHERE p.enabled AND p.relid OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', u.schema_name, u.table_name)::pg_catalog.regclass)) x)"
						" FROM retention.personal_columns c", &n);
	f->columns = rt_report_int64(t, 0, 1);
	f->tables = rt_report_int64(t, 0, 2);
	f->uncovered = rt_report_int64(t, 0, 3);
	foreach(lc, states)
	{
		RtPolicyState *s = lfirst(lc);

		f->policies++;
		if (s->policy->enabled)
			f->enabled++;
		if (s->policy->enabled && !s->counted)
			f->uncounted++;
		if (s->counted && RT_COUNTS_OVERDUE(&s->counts) > 0)
		{
			f->overdue += RT_COUNTS_OVERDUE(&s->counts);
			f->overdue_policies++;
			if (s->counts.have_oldest)
				f->oldest_overdue = Max(f->oldest_overdue,
										(double) (s->cutoff - s->counts.oldest) / USECS_PER_SEC);
		}
		if (s->runs_failed + s->runs_incomplete > 0)
			f->failing++;
	}
	f->scheduler = rt_scheduler_stopped_reason();
	t = rt_report_query("SELECT pg_catalog.count(*) FILTER (WHERE h.active), pg_catalog.count(*) FILTER (WHERE NOT h.active)"
						" FROM retention.holds h", &n);
	f->holds_active = rt_report_int64(t, 0, 1);
	f->holds_ended = rt_report_int64(t, 0, 2);
	t = rt_report_query("SELECT pg_catalog.count(*),"
						" pg_catalog.count(*) FILTER (WHERE e.status OPERATOR(pg_catalog.=) 'pending'),"
						" pg_catalog.count(*) FILTER (WHERE e.status OPERATOR(pg_catalog.=) 'pending' AND e.late),"
						" pg_catalog.count(*) FILTER (WHERE e.status OPERATOR(pg_catalog.=) 'done'),"
						" pg_catalog.count(*) FILTER (WHERE e.status OPERATOR(pg_catalog.=) 'done' AND e.late),"
						" pg_catalog.count(*) FILTER (WHERE e.status OPERATOR(pg_catalog.=) 'done' AND e.applied_here IS NULL)"
						" FROM retention.erasures e", &n);
	f->received = rt_report_int64(t, 0, 1);
	f->pending = rt_report_int64(t, 0, 2);
	f->pending_late = rt_report_int64(t, 0, 3);
	f->done = rt_report_int64(t, 0, 4);
	f->done_late = rt_report_int64(t, 0, 5);
	f->not_applied = rt_report_int64(t, 0, 6);

	/* the whole chain, then through the latest anchor given out */
	t = rt_report_query("SELECT v.ok, v.entries, v.first_bad FROM retention.verify_audit() v", &n);
	f->audit_ok = strcmp(rt_report_cell(t, 0, 1), "t") == 0;
	f->audit_entries = rt_report_int64(t, 0, 2);
	f->audit_first_bad = rt_report_int64(t, 0, 3);
	/* the head, read directly: audit_anchor() would note it, and the report is not given out yet */
	if (rt_audit_head(&f->head_seq, &f->head_bytes) && f->head_bytes != NULL)
		f->head_hash = rt_audit_hash_text(f->head_bytes);
	t = rt_report_query("SELECT k.seq, k.hash::pg_catalog.text, " RT_SQL_TS("k.at") ", k.via, v.ok, v.first_bad"
						" FROM (SELECT * FROM retention.audit_anchor_log ORDER BY seq DESC, at DESC LIMIT 1) k,"
						" LATERAL retention.verify_audit(k.seq, k.hash) v", &n);
	if (n > 0)
	{
		f->has_anchor = true;
		f->anchor_seq = rt_report_int64(t, 0, 1);
		f->anchor_hash = pstrdup(rt_report_cell(t, 0, 2));
		f->anchor_at = pstrdup(rt_report_cell(t, 0, 3));
		f->anchor_via = pstrdup(rt_report_cell(t, 0, 4));
		f->anchor_ok = strcmp(rt_report_cell(t, 0, 5), "t") == 0;
		f->anchor_first_bad = rt_report_int64(t, 0, 6);
	}
}

/* Writes the title, what the report is of, and the summary. */
static void
rt_report_summary(RtDoc *doc, const RtReportFacts *f)
{
	static const char *const headers[] = {"", "now"};
	char	   *db = get_database_name(MyDatabaseId);
	const char *cells[2];

	rt_doc_heading(doc, 1, psprintf("Data retention report: database %s", db));
	rt_doc_para(doc, false,
				psprintf("Generated %s by %s. pg_retention %s. Erasure deadline: %s. "
						 "Counts are taken now, in every table with a policy, as a run would take them.",
						 rt_report_ts(GetCurrentTransactionStartTimestamp()),
						 GetUserNameFromId(GetUserId(), false), RT_LIBRARY_VERSION, rt_erasure_deadline));
	rt_doc_heading(doc, 2, "Summary");
	rt_doc_table(doc, 2, headers);
#define RT_SUMMARY_ROW(attention, label, value) \
	do { cells[0] = (label); cells[1] = (value); rt_doc_row(doc, (attention), cells); } while (0)
	RT_SUMMARY_ROW(false, "Personal data",
				   psprintf("tagged columns: " INT64_FORMAT ", in tables: " INT64_FORMAT, f->columns, f->tables));
	RT_SUMMARY_ROW(f->uncovered > 0, "Tables with personal data and no enabled policy",
				   rt_report_int(f->uncovered));
	RT_SUMMARY_ROW(false, "Policies", psprintf(INT64_FORMAT " (" INT64_FORMAT " enabled)", f->policies, f->enabled));
	RT_SUMMARY_ROW(f->overdue > 0, "Rows overdue now",
				   f->overdue == 0 ? pstrdup("0") :
				   psprintf(INT64_FORMAT " in " INT64_FORMAT " policies; the oldest is %s past its retention period",
							f->overdue, f->overdue_policies, rt_report_duration(f->oldest_overdue)));
	if (f->uncounted > 0)
		RT_SUMMARY_ROW(true, "Policies that could not be counted", rt_report_int(f->uncounted));
	RT_SUMMARY_ROW(f->failing > 0, "Policies with failed or incomplete runs since their last success",
				   rt_report_int(f->failing));
	RT_SUMMARY_ROW(f->scheduler != NULL, "Scheduler",
				   f->scheduler == NULL ? pstrdup("running") : psprintf("not running (%s)", f->scheduler));
	RT_SUMMARY_ROW(false, "Legal holds active", rt_report_int(f->holds_active));
	RT_SUMMARY_ROW(f->pending_late > 0, "Erasure requests",
				   psprintf(INT64_FORMAT " received: " INT64_FORMAT " done (" INT64_FORMAT " after their deadline), "
							INT64_FORMAT " pending (" INT64_FORMAT " past their deadline)",
							f->received, f->done, f->done_late, f->pending, f->pending_late));
	RT_SUMMARY_ROW(!f->audit_ok || (f->has_anchor && !f->anchor_ok), "Audit trail",
				   psprintf("%s; " INT64_FORMAT " entries%s",
							f->audit_ok ? "chain intact" : psprintf("chain broken at entry " INT64_FORMAT, f->audit_first_bad),
							Max(f->audit_entries, f->head_seq),
							!f->has_anchor ? "; no anchor given out yet" :
							f->anchor_ok ? psprintf("; passes through the latest anchor (entry " INT64_FORMAT ")", f->anchor_seq) :
							psprintf("; does NOT pass through the latest anchor (entry " INT64_FORMAT ")", f->anchor_seq)));
#undef RT_SUMMARY_ROW
	rt_doc_table_end(doc);
}

/* Writes section 1: personal data and the retention periods declared for it. */
static void
rt_report_inventory(RtDoc *doc, const RtReportFacts *f)
{
	static const char *const col_headers[] = {"table", "column", "type", "category", "sensitive", "mask"};
	static const char *const pol_headers[] = {"policy", "table", "action", "keep", "after", "columns", "basis", "time zone", "enabled"};
	SPITupleTable *t;
	uint64		n;

	rt_doc_heading(doc, 2, "1. Personal data and retention periods");
	rt_doc_para(doc, false,
				"The records of processing: which tables hold personal data, of which categories, how each column "
				"is masked when anonymized, and how long rows are kept and on what basis.");
	rt_doc_heading(doc, 3, "Personal columns");
	t = rt_report_query("SELECT pg_catalog.format('%I.%I', c.schema_name, c.table_name), c.column_name, c.data_type,"
						" c.category, CASE WHEN c.sensitive THEN 'yes' ELSE 'no' END, c.mask"
						" FROM retention.personal_columns c ORDER BY c.schema_name, c.table_name, c.column_name", &n);
	rt_report_rows(doc, t, n, 6, col_headers, "No column is tagged as personal data.", true, NULL);
	rt_doc_heading(doc, 3, "Retention policies");
	t = rt_report_query("SELECT p.policy_id::pg_catalog.text, p.relid::pg_catalog.regclass::pg_catalog.text, p.action,"
						" p.keep::pg_catalog.text, p.anchor, COALESCE(pg_catalog.array_to_string(p.columns, ', '), 'all tagged'),"
						" COALESCE(p.basis, ''), p.time_zone, CASE WHEN p.enabled THEN 'yes' ELSE 'no' END"
						" FROM retention.policy_catalog p ORDER BY p.policy_id", &n);
	rt_report_rows(doc, t, n, 9, pol_headers, "No retention policy is declared.", true, rt_report_policy_row);
	if (f->uncovered > 0)
	{
		StringInfoData names;

		t = rt_report_query("SELECT DISTINCT pg_catalog.format('%I.%I', u.schema_name, u.table_name)"
							" FROM retention.personal_columns u WHERE NOT EXISTS (SELECT 1 FROM retention.policy_catalog p"
							" WHERE p.enabled AND p.relid OPERATOR(pg_catalog.=) pg_catalog.format('%I.%I', u.schema_name, u.table_name)::pg_catalog.regclass)"
							" ORDER BY 1", &n);
		initStringInfo(&names);
		for (uint64 i = 0; i < n; i++)
			appendStringInfo(&names, "%s%s", i > 0 ? ", " : "", rt_report_cell(t, i, 1));
		rt_doc_para(doc, true, psprintf("Personal data without an enabled retention policy: %s.", names.data));
	}
	else if (f->tables > 0)
		rt_doc_para(doc, false, "Every table with personal data has an enabled retention policy.");
}

/* Writes section 2: the state of every policy, and the runs that need a look. */
static void
rt_report_policies(RtDoc *doc, const RtReportFacts *f, List *states)
{
	static const char *const headers[] = {"policy", "table", "action", "overdue rows", "oldest overdue, past its period by",
	"blocked / held / hidden", "last run", "last status", "last success", "failed / incomplete since"};
	static const char *const run_headers[] = {"run", "policy", "table", "started", "status", "rows", "rows left", "cause or error"};
	ListCell   *lc;
	SPITupleTable *t;
	uint64		n;

	rt_doc_heading(doc, 2, "2. State of the policies");
	rt_doc_para(doc, f->scheduler != NULL,
				f->scheduler == NULL ?
				"A scheduler runs the policies of this database." :
				psprintf("No scheduler runs the policies of this database (%s): overdue rows stay until "
						 "someone runs CALL retention.run().", f->scheduler));
	if (states == NIL)
	{
		rt_doc_para(doc, false, "No policy is declared.");
		return;
	}
	rt_doc_table(doc, 10, headers);
	foreach(lc, states)
	{
		RtPolicyState *s = lfirst(lc);
		Oid			argtypes[1] = {INT8OID};
		Datum		args[1] = {Int64GetDatum(s->policy->policy_id)};
		const char *cells[10];
		bool		attention;

		rt_catalog_exec("SELECT " RT_SQL_TS("h.started_at") ", h.status FROM retention.run_history h"
						" WHERE h.policy_id OPERATOR(pg_catalog.=) $1 ORDER BY h.run_id DESC LIMIT 1",
						1, argtypes, args, NULL, true, SPI_OK_SELECT);
		cells[0] = rt_report_int(s->policy->policy_id);
		cells[1] = s->table;
		cells[2] = rt_action_name(s->policy->action);
		if (!s->policy->enabled)
			cells[3] = "disabled";
		else if (!s->counted)
			cells[3] = psprintf("not counted: %s", s->count_error ? s->count_error : "the table is gone");
		else
			cells[3] = rt_report_int(RT_COUNTS_OVERDUE(&s->counts));
		cells[4] = s->counted && s->counts.have_oldest ?
			rt_report_duration((double) (s->cutoff - s->counts.oldest) / USECS_PER_SEC) : "";
		cells[5] = s->counted ?
			psprintf(INT64_FORMAT " / " INT64_FORMAT " / " INT64_FORMAT, s->counts.blocked, s->counts.held, s->counts.hidden) : "";
		cells[6] = SPI_processed > 0 ? rt_report_cell(SPI_tuptable, 0, 1) : "never";
		cells[7] = SPI_processed > 0 ? rt_report_cell(SPI_tuptable, 0, 2) : "";
		cells[8] = s->has_success ? rt_report_ts(s->last_success) : "never";
		cells[9] = psprintf(INT64_FORMAT " / " INT64_FORMAT, s->runs_failed, s->runs_incomplete);
		attention = (s->policy->enabled && !s->counted) ||
			(s->counted && RT_COUNTS_OVERDUE(&s->counts) > 0) ||
			s->runs_failed + s->runs_incomplete > 0 || (s->counted && s->counts.hidden > 0);
		rt_doc_row(doc, attention, cells);
	}
	rt_doc_table_end(doc);
	rt_doc_para(doc, false,
				"Overdue rows are past their retention period and neither needed by a foreign key (blocked) nor "
				"under a legal hold (held); a run removes them. Hidden rows are past it too, but row-level "
				"security hides them from the table owner, so no run can remove them.");

	/* the runs that did not succeed since their policy's last success: what needs a look */
	t = rt_report_query("SELECT h.run_id::pg_catalog.text, h.policy_id::pg_catalog.text, h.tbl, " RT_SQL_TS("h.started_at") ","
						" h.status, h.rows::pg_catalog.text, h.rows_left::pg_catalog.text,"
						" COALESCE(h.cause, h.error, ''), pg_catalog.count(*) OVER ()"
						" FROM retention.run_history h"
						" WHERE h.status OPERATOR(pg_catalog.=) ANY ('{failed,incomplete,interrupted}'::pg_catalog.text[])"
						" AND h.run_id OPERATOR(pg_catalog.>) COALESCE((SELECT pg_catalog.max(s.run_id) FROM retention.run_history s"
						"   WHERE s.policy_id OPERATOR(pg_catalog.=) h.policy_id AND s.status OPERATOR(pg_catalog.=) 'success'), 0)"
						" ORDER BY h.run_id DESC LIMIT " CppAsString2(RT_REPORT_MAX_ROWS), &n);
	rt_doc_heading(doc, 3, "Runs that failed or were incomplete since their policy's last success");
	rt_report_rows(doc, t, n, 8, run_headers, "None.", false, rt_report_attention_row);
	if (n > 0 && rt_report_int64(t, 0, 9) > (int64) n)
		rt_doc_para(doc, false, psprintf("And " INT64_FORMAT " older ones (retention.runs).", rt_report_int64(t, 0, 9) - (int64) n));
}

/* Writes section 3: legal holds, without the ids of the subjects they cover. */
static void
rt_report_holds(RtDoc *doc, const RtReportFacts *f)
{
	static const char *const headers[] = {"hold", "covers", "reason", "placed", "by", "until"};
	SPITupleTable *t;
	uint64		n;

	rt_doc_heading(doc, 2, "3. Legal holds");
	rt_doc_para(doc, false,
				"Rows under a legal hold are kept past their retention period, and erasures of the subjects "
				"they cover wait until the hold ends. Subjects are named by kind only.");
	t = rt_report_query("SELECT h.hold_id::pg_catalog.text,"
						" CASE WHEN h.kind IS NOT NULL THEN 'a data subject of kind ' OPERATOR(pg_catalog.||) h.kind"
						"      ELSE 'table ' OPERATOR(pg_catalog.||) h.tbl::pg_catalog.text END,"
						" h.reason, " RT_SQL_TS("h.created_at") ", h.created_by::pg_catalog.text,"
						" COALESCE(" RT_SQL_TS("h.until") ", 'released')"
						" FROM retention.holds h WHERE h.active ORDER BY h.hold_id", &n);
	rt_report_rows(doc, t, n, 6, headers, "No legal hold is active.", false, rt_report_hold_row);
	rt_doc_para(doc, false, psprintf(INT64_FORMAT " holds have ended (released or expired).", f->holds_ended));
}

/* Writes section 4: erasure requests against their deadline. */
static void
rt_report_erasures(RtDoc *doc, const RtReportFacts *f)
{
	static const char *const pending_headers[] = {"erasure", "kind", "received", "due", "waiting for holds", "past due"};
	static const char *const late_headers[] = {"erasure", "kind", "received", "due", "carried out", "rows"};
	SPITupleTable *t;
	uint64		n;

	rt_doc_heading(doc, 2, "4. Erasure requests");
	rt_doc_para(doc, false,
				psprintf(INT64_FORMAT " received: " INT64_FORMAT " done, " INT64_FORMAT " of them after their deadline; "
						 INT64_FORMAT " pending, " INT64_FORMAT " of them past their deadline. Each request is due "
						 "its receipt plus the deadline in force then (now %s). Subjects are named by kind only.",
						 f->received, f->done, f->done_late, f->pending, f->pending_late, rt_erasure_deadline));
	if (f->not_applied > 0)
		rt_doc_para(doc, true,
					psprintf(INT64_FORMAT " erasures imported from another database have not been applied here yet: "
							 "run SELECT * FROM retention.replay_erasures().", f->not_applied));
	rt_doc_heading(doc, 3, "Pending");
	t = rt_report_query("SELECT e.erasure_id::pg_catalog.text, e.kind, " RT_SQL_TS("e.requested_at") ", " RT_SQL_TS("e.due_at") ","
						" COALESCE(pg_catalog.array_to_string(e.waiting_for, ', '), ''),"
						" CASE WHEN e.late THEN 'yes' ELSE 'no' END"
						" FROM retention.erasures e WHERE e.status OPERATOR(pg_catalog.=) 'pending'"
						" ORDER BY e.due_at, e.erasure_id", &n);
	rt_report_rows(doc, t, n, 6, pending_headers, "None.", false, rt_report_pending_row);
	rt_doc_heading(doc, 3, "Carried out after their deadline");
	t = rt_report_query("SELECT e.erasure_id::pg_catalog.text, e.kind, " RT_SQL_TS("e.requested_at") ", " RT_SQL_TS("e.due_at") ","
						" " RT_SQL_TS("e.completed_at") ", COALESCE(e.rows::pg_catalog.text, '')"
						" FROM retention.erasures e WHERE e.status OPERATOR(pg_catalog.=) 'done' AND e.late"
						" ORDER BY e.completed_at DESC, e.erasure_id LIMIT " CppAsString2(RT_REPORT_MAX_ROWS), &n);
	rt_report_rows(doc, t, n, 6, late_headers, "None.", false, NULL);
	if (n > 0 && f->done_late > (int64) n)
		rt_doc_para(doc, false, psprintf("And " INT64_FORMAT " earlier ones (retention.erasures).", f->done_late - (int64) n));
}

/* Returns a round number at least max (1, 2 or 5 times a power of ten), for the chart's scale. */
static int64
rt_report_scale(int64 max)
{
	int64		step = 1;

	for (;;)
	{
		if (max <= step)
			return step;
		if (max <= 2 * step)
			return 2 * step;
		if (max <= 5 * step)
			return 5 * step;
		step *= 10;
	}
}

/* Writes the chart of rows deleted and anonymized per week as inline SVG. */
static void
rt_report_chart(RtDoc *doc, SPITupleTable *t, uint64 n)
{
	const int	width = 760,
				height = 260,
				left = 70,
				bottom = 40,
				top = 30;
	int			plot_h = height - bottom - top;
	int			slot = (width - left - 10) / (int) Max(n, 1);
	int			bar = Max((slot - 8) / 2, 2);
	int64		max = 0,
				scale;

	for (uint64 i = 0; i < n; i++)
		max = Max(max, Max(rt_report_int64(t, i, 2), rt_report_int64(t, i, 3)));
	scale = rt_report_scale(Max(max, 1));
	appendStringInfo(&doc->buf,
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
					 " role=\"img\" aria-label=\"Rows deleted and anonymized per week\">\n",
					 width, height, width, height);
	appendStringInfoString(&doc->buf, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
	/* the scale: 0, half, full */
	for (int k = 0; k <= 2; k++)
	{
		int			y = top + plot_h - plot_h * k / 2;

		appendStringInfo(&doc->buf,
						 "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#d0d4da\"/>"
						 "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">" INT64_FORMAT "</text>\n",
						 left, y, width - 10, y, left - 6, y + 4, scale * k / 2);
	}
	for (uint64 i = 0; i < n; i++)
	{
		int64		deleted = rt_report_int64(t, i, 2);
		int64		anonymized = rt_report_int64(t, i, 3);
		int			x = left + (int) i * slot + 4;
		int			hd = (int) ((double) plot_h * deleted / scale);
		int			ha = (int) ((double) plot_h * anonymized / scale);

		/* a week with rows gets a visible bar, however small beside the largest */
		if (deleted > 0 && hd < 1)
			hd = 1;
		if (anonymized > 0 && ha < 1)
			ha = 1;
		appendStringInfo(&doc->buf,
						 "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#c0392b\"><title>week of %s: "
						 INT64_FORMAT " deleted</title></rect>"
						 "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#2e86c1\"><title>week of %s: "
						 INT64_FORMAT " anonymized</title></rect>\n",
						 x, top + plot_h - hd, bar, hd, rt_report_cell(t, i, 1), deleted,
						 x + bar, top + plot_h - ha, bar, ha, rt_report_cell(t, i, 1), anonymized);
		appendStringInfo(&doc->buf,
						 "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"10\" fill=\"#333\">%s</text>\n",
						 x + bar, height - bottom + 14, rt_report_cell(t, i, 4));
	}
	appendStringInfo(&doc->buf,
					 "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" fill=\"#c0392b\"/>"
					 "<text x=\"%d\" y=\"18\" font-size=\"12\" fill=\"#333\">deleted</text>"
					 "<rect x=\"%d\" y=\"8\" width=\"12\" height=\"12\" fill=\"#2e86c1\"/>"
					 "<text x=\"%d\" y=\"18\" font-size=\"12\" fill=\"#333\">anonymized</text>"
					 "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#333\">week starting (Monday)</text>\n</svg>\n",
					 left, left + 16, left + 100, left + 116, left, height - 6);
}

/* Writes section 5: rows deleted and anonymized per week, from the audit trail. */
static void
rt_report_weeks(RtDoc *doc)
{
	static const char *const headers[] = {"week starting", "rows deleted", "rows anonymized"};
	SPITupleTable *t;
	uint64		n;

	rt_doc_heading(doc, 2, "5. Rows deleted and anonymized per week");
	rt_doc_para(doc, false,
				"From the run entries of the audit trail (kept whole, unlike the run history), over the last "
				CppAsString2(RT_REPORT_WEEKS) " weeks; partitions dropped whole count with their rows.");
	/* weeks start on Monday in the session's time zone; the audit is never trimmed */
	t = rt_report_query("SELECT pg_catalog.to_char(w.w, 'YYYY-MM-DD'),"
						" COALESCE(pg_catalog.sum(a.rows) FILTER (WHERE a.details OPERATOR(pg_catalog.->>) 'action' OPERATOR(pg_catalog.=) 'delete'), 0)::pg_catalog.int8,"
						" COALESCE(pg_catalog.sum(a.rows) FILTER (WHERE a.details OPERATOR(pg_catalog.->>) 'action' OPERATOR(pg_catalog.=) 'anonymize'), 0)::pg_catalog.int8,"
						" pg_catalog.to_char(w.w, 'MM-DD')"
						" FROM pg_catalog.generate_series(pg_catalog.date_trunc('week', pg_catalog.now())"
						"   OPERATOR(pg_catalog.-) '" CppAsString2(RT_REPORT_WEEKS) " weeks'::pg_catalog.interval"
						"   OPERATOR(pg_catalog.+) '1 week'::pg_catalog.interval,"
						"   pg_catalog.date_trunc('week', pg_catalog.now()), '1 week'::pg_catalog.interval) w(w)"
						" LEFT JOIN retention.audit a ON a.event OPERATOR(pg_catalog.=) 'run'"
						"   AND a.at OPERATOR(pg_catalog.>=) w.w AND a.at OPERATOR(pg_catalog.<) (w.w OPERATOR(pg_catalog.+) '1 week'::pg_catalog.interval)"
						" GROUP BY w.w ORDER BY w.w", &n);
	if (doc->html)
		rt_report_chart(doc, t, n);
	/* the weeks are never none: generate_series gives every one */
	rt_report_rows(doc, t, n, 3, headers, "No week.", false, NULL);
}

/* Writes section 6: the audit chain verified, its head, and its latest anchor. */
static void
rt_report_audit(RtDoc *doc, const RtReportFacts *f)
{
	rt_doc_heading(doc, 2, "6. Audit trail");
	if (f->audit_ok)
		rt_doc_para(doc, false,
					psprintf("retention.verify_audit() recomputed the hash chain of all " INT64_FORMAT
							 " entries: intact.", f->audit_entries));
	else
		rt_doc_para(doc, true,
					psprintf("retention.verify_audit() found the chain of " INT64_FORMAT " entries broken at entry " INT64_FORMAT
							 ": that entry was changed, inserted or follows a removed one.",
							 Max(f->audit_entries, f->head_seq), f->audit_first_bad));
	if (f->head_hash != NULL)
		rt_doc_para(doc, false,
					psprintf("Newest entry (an anchor: keep it outside the database with this report): seq " INT64_FORMAT
							 ", hash %s.", f->head_seq, f->head_hash));
	if (!f->has_anchor)
		rt_doc_para(doc, true,
					"No anchor has been given out yet: a superuser who rewrote the trail and recomputed the chain "
					"would not be detected. Keep the newest entry above, or the worker's audit anchor log lines, "
					"outside the database.");
	else
		rt_doc_para(doc, !f->anchor_ok,
					psprintf("Latest anchor given out (%s, %s): seq " INT64_FORMAT ", hash %s. The chain %s it%s. "
							 INT64_FORMAT " entries came after it. Compare it with the copy kept outside the database: "
							 "only that copy proves the trail was not rewritten.",
							 strcmp(f->anchor_via, "log") == 0 ? "written to the server log by the worker" :
							 strcmp(f->anchor_via, "report") == 0 ? "in an earlier report" : "returned by retention.audit_anchor()",
							 f->anchor_at, f->anchor_seq, f->anchor_hash,
							 f->anchor_ok ? "passes through" : "does NOT pass through",
							 f->anchor_ok ? "" : psprintf(" (first bad entry " INT64_FORMAT ")", f->anchor_first_bad),
							 Max(f->head_seq - f->anchor_seq, 0)));
}

/* The style of the HTML page: readable on screen and on paper, nothing loaded. */
static const char *const rt_report_css =
"body{font-family:'DejaVu Sans',Arial,sans-serif;font-size:14px;color:#1d2733;margin:24px auto;max-width:1180px;padding:0 16px}"
"h1{font-size:24px;border-bottom:3px solid #2e86c1;padding-bottom:6px}"
"h2{font-size:19px;margin-top:28px;border-bottom:1px solid #d0d4da;padding-bottom:4px}"
"h3{font-size:15px;margin-top:18px}"
"table{border-collapse:collapse;margin:8px 0 12px;width:100%}"
"th,td{border:1px solid #d0d4da;padding:4px 7px;text-align:left;vertical-align:top}"
"th{background:#eef2f6}"
"tr.attention td{background:#fdecea}"
"p.attention{background:#fdecea;border-left:4px solid #c0392b;padding:6px 10px}"
"svg{display:block;margin:8px 0}";

PG_FUNCTION_INFO_V1(retention_report);

/* SQL: retention.report(format) returns the compliance report as Markdown or HTML. */
Datum
retention_report(PG_FUNCTION_ARGS)
{
	RtDoc		doc;
	const char *format;
	RtReportFacts facts;
	List	   *states;
	text	   *result;
	int			nest;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("format must not be null"),
				 errhint("Use 'markdown' or 'html'.")));
	format = text_to_cstring(PG_GETARG_TEXT_PP(0));
	memset(&doc, 0, sizeof(doc));
	if (pg_strcasecmp(format, "html") == 0)
		doc.html = true;
	else if (pg_strcasecmp(format, "markdown") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown report format \"%s\"", format),
				 errhint("Use 'markdown' or 'html'.")));
	initStringInfo(&doc.buf);

	/* times and intervals print alike whatever the session's styles (the time zone stays the reader's) */
	nest = rt_safe_settings_begin(RT_SAFE_ISO_DATES | RT_SAFE_PLAIN_INTERVALS);
	SPI_connect();
	states = rt_metrics_policy_states();
	rt_report_facts(&facts, states);
	if (doc.html)
	{
		appendStringInfoString(&doc.buf,
							   "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
							   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
							   "<title>");
		rt_doc_text(&doc, psprintf("Data retention report: database %s", get_database_name(MyDatabaseId)));
		appendStringInfo(&doc.buf, "</title>\n<style>%s</style>\n</head>\n<body>\n", rt_report_css);
	}
	rt_report_summary(&doc, &facts);
	rt_report_inventory(&doc, &facts);
	rt_report_policies(&doc, &facts, states);
	rt_report_holds(&doc, &facts);
	rt_report_erasures(&doc, &facts);
	rt_report_weeks(&doc);
	rt_report_audit(&doc, &facts);
	if (doc.html)
		appendStringInfoString(&doc.buf, "</body>\n</html>\n");
	/* the report carries the head out of the database: an anchor given out (audit.h) */
	if (facts.head_hash != NULL)
		(void) rt_audit_note_anchor(facts.head_seq, facts.head_bytes, "report");
	SPI_finish();
	rt_safe_settings_end(nest);
	result = cstring_to_text_with_len(doc.buf.data, doc.buf.len);
	PG_RETURN_TEXT_P(result);
}
