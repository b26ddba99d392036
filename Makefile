# pg_retention: data retention enforced inside PostgreSQL (PGXS build)

PG_CONFIG ?= pg_config

EXTENSION = pg_retention
MODULE_big = pg_retention
OBJS = \
	src/version.o \
	src/extension.o \
	src/quote.o \
	src/heap_count.o \
	src/guc.o \
	src/safe_spi.o \
	src/cache.o \
	src/srf.o \
	src/subxact.o \
	src/privilege.o \
	src/category.o \
	src/cutoff.o \
	src/mask_spec.o \
	src/mask_text.o \
	src/mask_generalize.o \
	src/key.o \
	src/ledger_file.o \
	src/pseudonym.o \
	src/citus.o \
	src/citus_mask.o \
	src/audit.o \
	src/tag.o \
	src/policy.o \
	src/fk_guard.o \
	src/subject.o \
	src/hold.o \
	src/publication.o \
	src/cdc.o \
	src/anonymize.o \
	src/diagnose.o \
	src/purge.o \
	src/citus_purge.o \
	src/partition.o \
	src/horizon.o \
	src/throttle.o \
	src/runlog.o \
	src/run.o \
	src/run_command.o \
	src/preview.o \
	src/erasure.o \
	src/citus_erasure.o \
	src/erasure_ledger.o \
	src/restore.o \
	src/subject_export.o \
	src/scheduler_registry.o \
	src/scheduler_rules.o \
	src/scheduler_idle.o \
	src/scheduler_ddl.o \
	src/scheduler_launcher.o \
	src/scheduler_worker.o \
	src/metrics.o \
	src/report.o \
	src/tagcmds.o \
	src/policycmds.o \
	src/subjectcmds.o \
	src/holdcmds.o \
	src/throttlecmds.o \
	src/ddl_guard.o \
	src/pg_retention.o

# 0.1.0 as first installed, then one script per version after it
DATA = pg_retention--0.1.0.sql pg_retention--0.1.0--0.2.0.sql pg_retention--0.2.0--0.3.0.sql
DOCS = docs/reference.md docs/operations.md docs/security.md

# the server headers are system headers: -Wextra reports our code, not theirs
PG_CPPFLAGS = -I$(srcdir)/include -isystem $(shell $(PG_CONFIG) --includedir-server)
SHLIB_LINK += -lsodium

# pg_regress: sql/NAME.sql compared with expected/NAME.out
REGRESS = 01_setup 02_tags 03_policies 04_run 05_errors 06_ddl 07_audit 20_sched_settings 36_run_windows \
	30_mask_text 30_mask_generalize 30_mask_pseudonym 31_anon_checks 31_anon_run 34_mask_unicode_digits 35_mask_generated_unique 40_subjects 41_owner_code 42_subj_guards 43_subj_key_equality 44_erasure_truth 45_subject_drop 45_subject_composite 46_erasure_kept \
	33_eng_generalize_dst 33_eng_ddl_unique 33_eng_pseudonym_access 33_eng_audit_anchor 33_eng_anon_refusals \
	35_run_truth 36_run_throttle 37_run_truth_cases \
	70_ops_metrics_report 71_ledger_file \
	50_perf_partition 51_partition_cost \
	60_sec_privileges 60_sec_injection 60_sec_faults 60_sec_review 60_sec_mask_props
REGRESS_OPTS = --inputdir=. --outputdir=.

# pg_isolation_regress: tests/specs/NAME.spec compared with tests/expected/NAME.out
ISOLATION = purge_vs_anchor_update concurrent_runs manual_run_vs_detach anonymize_vs_app perf_detach_concurrently \
	purge_vs_row_locks purge_vs_partition_reader erasure_vs_purge hold_vs_erasure erasure_kept_vs_ddl throttle_lock_waits sec_table_swap sec_stranger_no_queue
ISOLATION_OPTS = --inputdir=tests --outputdir=tests/output_iso --dbname=contrib_isolation_retention

# TAP tests on PostgreSQL::Test::Cluster (must not run as root)
TAP_TESTS = 1
PROVE_TESTS = tests/t/*.pl
PROVE_FLAGS += -I ./tests/perl

EXTRA_CLEAN = results regression.diffs regression.out tests/output_iso tmp_check


PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# the regression tests, for scripts that run them another way (scripts/test-memory)
print-regress:
	@echo $(REGRESS)
