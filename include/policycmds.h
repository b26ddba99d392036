/*
 * policycmds.h
 *    The SQL commands that declare retention policies (add_policy,
 *    alter_policy, drop_policy, index_advice); their entry points are
 *    called by the SQL functions only.
 */
#ifndef RT_POLICYCMDS_H
#define RT_POLICYCMDS_H

/* Defines the setting retention.min_keep (called by _PG_init). */
extern void rt_policycmds_define_gucs(void);

#endif							/* RT_POLICYCMDS_H */
