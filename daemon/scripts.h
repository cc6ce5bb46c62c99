/* scripts.h: the Lua scripts that make every change to accounts, sessions
 * and progress atomic. Each runs on the keys of one hash tag. */
#ifndef CAMPUS_SCRIPTS_H
#define CAMPUS_SCRIPTS_H

#include "campusd.h"

enum script_id {
    SCRIPT_REGISTER,      /* K: account events; A: role hash created_s maxlen -> 1 | 0 taken */
    SCRIPT_LOGIN_FETCH,   /* K: account fails; A: max -> {1, pttl} limited | {0, 0, hash, role, disabled, lang} */
    SCRIPT_RATE_PEEK,     /* K: fails; A: max -> {1, pttl} limited | {0, 0} */
    SCRIPT_FAIL,          /* K: fails; A: window_s -> failures so far */
    SCRIPT_SESSION_NEW,   /* K: account sessions fails; A: tokhash now idle_ms max_ms keep -> role | 0 */
    SCRIPT_SESSION_TOUCH, /* K: sessions account; A: tokhash now idle_ms max_ms touch_ms created_ms -> {role, hash, created, lang} | why | 0 */
    SCRIPT_PASSWORD_SET,  /* K: account sessions; A: old new revoke [tokhash now max_ms] -> 1 | 0 changed | -1 none
                           * (revoke 1 needs now: it becomes the account's sessions_revoked) */
    SCRIPT_USER_SET,      /* K: account sessions; A: field value revoke -> 1 | 0 no account */
    SCRIPT_DONE,          /* K: done events [donekey]; A: lesson now maxlen [window_ms] -> 1 new | 0 already
                           * | the first answer again for a known key | -1 key used for another lesson */
    SCRIPT_DONE_CHECKED,  /* K: sessions account done events [donekey]; A: SESSION_TOUCH's six, then DONE's
                           * lesson now maxlen [window_ms] -> {touch} not done | {touch, done} */
    SCRIPT_VIEWED,        /* K: viewed events; A: lesson now gap_ms maxlen -> 1 event | 0 */
    SCRIPT_ATTEMPT,       /* K: attempts passed events submit pending; A: max record-after-n exid now passed
                           * score01 maxlen window_ms docsha task... -> {n, 2} new | {n, 1|0, record} retry | {0} full */
    SCRIPT_ATTEMPT_UPDATE,/* K: attempts passed events pending; A: index old new exid now passed score01 maxlen
                           * marker -> 1 | 0 changed */
    SCRIPT_REVIEW_ADD,    /* K: seq queue items index; A: item-json now index-field -> id (new or already there) */
    SCRIPT_REVIEW_DONE,   /* K: queue items index; A: id index-field -> 1 */
    SCRIPT_COHORT_CREATE, /* K: meta trainers open due pending; A: course name start tz pace now owner code n [module open due]*n -> 1 | 0 exists */
    SCRIPT_COHORT_GET,    /* K: meta trainers learners pending; A: user -> 0 | {meta, trainer, learner, nlearners, ntrainers, npending} */
    SCRIPT_COHORT_MEMBERS,/* K: meta learners pending roster; A: op now course n [name roster-json]*n -> changed */
    SCRIPT_COHORT_JOIN,   /* K: meta learners pending; A: code user now -> 1 | 2 already | 0 bad code | -1 closed */
    SCRIPT_COHORT_TRAINER,/* K: meta trainers pending; A: op name -> 1 | 0 unchanged | -1 last trainer */
    SCRIPT_COHORT_USER,   /* K: cohorts teaches; A: kind op id course -> 1 */
    SCRIPT_COHORT_SETTLE, /* K: pending; A: [field value]* -> entries left */
    SCRIPT_COHORT_SET,    /* K: meta; A: field value -> old value | false when no cohort */
    SCRIPT_COHORT_OPEN,   /* K: meta open; A: module ms -> 1 | 0 no such module */
    SCRIPT_COHORT_GATE,   /* K: meta open due extend; A: learner module -> {tz, closed, open, due, ext-open, ext-due} */
    SCRIPT_COHORT_SCHEDULE,/* K: open due [meta extend]; A: - -> {open-flat, due-flat [, tz, extend-flat]} */
    SCRIPT_COHORT_TRY,    /* K: joinfails; A: max window_s -> {1, pttl} limited | {0, 0} (counted) */
    SCRIPT_COHORT_ROSTER, /* K: learners roster late; A: - -> {names, roster-flat, late-flat} */
    SCRIPT_COHORT_LEARNER,/* K: done passed attempts*; A: - -> {done-flat, passed-flat, {list}*} */
    SCRIPT_COHORT_ROW,    /* K: meta learners; A: - -> {{name, course, start, tz, closed}, nlearners} */
    SCRIPT_COHORT_MINE,   /* K: teaches cohorts; A: - -> {teaches, cohort ids} */
    SCRIPT_COHORT_PROGRESS,/* K: done passed events; A: - -> {done lessons, passed exercises, last event id} */
    /* live sessions (cmd-live.c, live-bus.c); every one checks the session named is the live one */
    SCRIPT_LIVE_CTX,      /* K: meta trainers learners live room tally; A: user now -> 0 no cohort
                           * | {trainer, learner, live-flat, room, tally-flat} */
    SCRIPT_LIVE_START,    /* K: live events tally room; A: cohort by now -> {1 new | 0 already, session, started, seq} */
    SCRIPT_LIVE_EVENT,    /* K: live events; A: channel session type data max said_max [field value]* -> id | 0 not live */
    SCRIPT_LIVE_POLL,     /* K: live events tally polls; A: channel session view-tail gift max -> {poll, id} | 0 | -1 one open */
    SCRIPT_LIVE_ANSWER,   /* K: live answers tally; A: channel session poll learner record bucket right
                           * -> tally-json | 0 not live | -1 no such open poll */
    SCRIPT_LIVE_CLOSE,    /* K: live events tally polls; A: channel session max -> tally-json | 0 | -1 no open poll */
    SCRIPT_LIVE_PRESENCE, /* K: live room; A: channel op user now lease -> room count | -1 not live */
    SCRIPT_COUNT
};

/* True when a call with nkeys keys and nargs other arguments fits the
 * script's row in the shape table (scripts.c); script_call refuses any
 * other. */
bool script_shape_fits(enum script_id id, int nkeys, int nargs);
/* True when the script has a row in that table. */
bool script_shape_known(enum script_id id);
/* The most keys and arguments its row allows (for the unit test). */
void script_shape_widest(enum script_id id, int *keys_max, int *args_max);

/* The Lua source of a script (static). */
const char *script_source(enum script_id id);

/* Its SHA-1 in hex (static), as EVALSHA wants it. */
const char *script_sha(enum script_id id);

/* Runs a script with EVALSHA: argv holds nkeys key names, then the other
 * arguments, argc strings in all. When Redis answers NOSCRIPT (a restart, a
 * SCRIPT FLUSH) the script is loaded with SCRIPT LOAD and called again,
 * once. cb (may be NULL) gets the final reply, with the contract of
 * store_command.
 * Returns 0, or -1 at once if the store is not up (cb not called). */
int script_call(enum script_id id, store_cb *cb, void *priv, int nkeys, int argc,
                const char *const *argv);

/* Redis Cluster's hash tag of key: what is between the first "{" and the
 * next "}" when that is not empty, else the whole key (borrowed from key). */
void key_hash_tag(const char *key, const char **tag, size_t *len);
/* 0 when the nkeys keys share one hash tag, else the index of the first
 * that does not share the first one's. script_call refuses such a call
 * (fatal in test builds). */
int script_keys_one_tag(int nkeys, const char *const *keys);

#endif
