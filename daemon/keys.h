/* keys.h: the Redis key schema of accounts, sessions and progress. Every key
 * of one learner carries the hash tag {u:NAME}, so a Lua script touching them
 * stays in one cluster slot; docs/OPERATIONS.md lists each key, its type, its
 * writer and its size bound. A user's id is their account name. */
#ifndef CAMPUS_KEYS_H
#define CAMPUS_KEYS_H

#include <stddef.h>

/* The longest key, with its NUL. Names are at most AUTH_NAME_MAX bytes,
 * addresses and exercise ids well under 100: a key past this is a bug. */
#define KEY_MAX 256

/* Formats a key from one of the patterns below into buf (n bytes, at most
 * KEY_MAX is ever needed). Returns 0, or -1 with the error logged when the
 * key would not fit: the caller fails its request rather than send a
 * truncated key, which would name some other record. (store.c) */
int key_fmt(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same on the heap (caller frees), for keys kept across a callback.
 * Never NULL and never cut short: a key past KEY_MAX is logged as the bug
 * it is and returned whole. (store.c) */
char *key_new(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The reverse, for a key a SCAN found: when key is the pattern fmt (one
 * %s) filled in, what stands for the %s (caller frees); else NULL.
 * (store.c) */
char *key_arg(const char *key, const char *fmt);

/* Hash: the schema marker: version, and a random id the data directory
 * remembers, so a Redis that lost its data is told from a new one. */
#define KEY_META "campus:meta"

/* Sorted set: every account name, scored by creation time (unix seconds). */
#define KEY_USERS "campus:users"

/* The printf formats below take the user name (or client address). */

/* Hash: role, hash (scrypt string), created, disabled (0/1), lang (LANG: the
 * language tag the learner reads in; absent until set), sessions_revoked
 * (ms: when a password change last ended every session; absent until then). */
#define KEY_ACCOUNT  "campus:{u:%s}:account"
/* Hash: token SHA-256 (hex) -> "CREATED_MS LAST_MS HASH". */
#define KEY_SESSIONS "campus:{u:%s}:sessions"
/* String: failed logins of this account in the current window (TTL). */
#define KEY_FAILS    "campus:{u:%s}:fails"
/* String: failed logins from this client address in the window (TTL). */
#define KEY_ADDR_FAILS "campus:{a:%s}:fails"
/* Hash: lesson full id -> completion time (ms). */
#define KEY_DONE     "campus:{u:%s}:done"
/* Hash: lesson full id -> "FIRST_MS LAST_MS" of views. */
#define KEY_VIEWED   "campus:{u:%s}:viewed"
/* Hash: exercise id ("course/lesson" or "course/lesson#N") -> time passed (ms).
 * Written by the grading commands. */
#define KEY_PASSED   "campus:{u:%s}:passed"
/* Stream, capped: the learner's events, exported as xAPI statements.
 * Fields: t (registered, viewed, completed, attempted, passed, failed),
 * o (object: lesson or exercise id, "" for the account itself), and for
 * attempts: score (0..1), success (1/0). The entry id gives the time. */
#define KEY_EVENTS   "campus:{u:%s}:events"
/* List: a learner's attempts at one exercise (second %s: its full id), JSON
 * records oldest first; record N-1 is attempt N ("n" is set by the script
 * that appends it). */
#define KEY_ATTEMPTS "campus:{u:%s}:attempts:%s"
/* String with a TTL of submit_window: a SUBMIT's key (second %s: SHA-256 in
 * hex of learner, exercise and the client's key or the answer document) ->
 * "N DOCSHA", the attempt it made and the SHA-256 of its document. */
#define KEY_SUBMIT   "campus:{u:%s}:submit:%s"
/* String with a TTL of submit_window: a DONE's idempotency key (second %s:
 * the client's key, 1 to 64 of A-Z a-z 0-9 . _ : -) -> "LESSON R", the
 * lesson it marked and what the first DONE answered (1 new, 0 already). */
#define KEY_DONE_KEY "campus:{u:%s}:donekey:%s"
/* Hash: review entries an attempt needs, written with the attempt and
 * removed once the queue has them or the task is graded:
 * "EXERCISE N TASK" -> submission time (ms). */
#define KEY_REVIEWS_PENDING "campus:{u:%s}:reviews-pending"
/* The SCAN pattern of the hashes above, for the repair pass. */
#define KEY_REVIEWS_PENDING_MATCH "campus:{u:*}:reviews-pending"
/* Hash: reviews graded since the learner last read that exercise's
 * ATTEMPTS: "EXERCISE" -> count. LOGIN, WHOAMI and /api/me add them up. */
#define KEY_REVIEWS_NEW "campus:{u:%s}:reviews-new"

/* The review queue (tag {reviews}): a counter, ids by time, the items, and
 * "USER EXERCISE N TASK" -> id, so queueing an entry twice is harmless. */
#define KEY_REVIEW_SEQ   "campus:{reviews}:seq"
#define KEY_REVIEW_QUEUE "campus:{reviews}:queue"
#define KEY_REVIEW_ITEMS "campus:{reviews}:items"
#define KEY_REVIEW_INDEX "campus:{reviews}:by-attempt"

/* ---- cohorts ----
 * Everything of one cohort carries the hash tag {c:ID} (ID: a number from
 * KEY_COHORT_SEQ). Membership is kept on both sides: the cohort's learners
 * and trainers under {c:ID}, and each user's cohorts under {u:NAME}. A
 * change is written to the cohort first, with an entry in its pending hash,
 * then to each user, then the entry goes: a change cut short is replayed from
 * the pending hash (cmd-cohort.c, cohort_sync). */

/* Hash: course, name, start (YYYY-MM-DD), tz, pace, created (ms), owner,
 * code, closed (0/1). */
#define KEY_COHORT_META     "campus:{c:%s}:meta"
/* Set: the accounts that run the cohort (its owner and co-trainers). */
#define KEY_COHORT_TRAINERS "campus:{c:%s}:trainers"
/* Sorted set: learner name, scored by join time (ms). */
#define KEY_COHORT_LEARNERS "campus:{c:%s}:learners"
/* Hash: learner name -> JSON {"display": ..., "email": ...} from ENROL. */
#define KEY_COHORT_ROSTER   "campus:{c:%s}:roster"
/* Hash: module id -> UTC instant (ms) the module opens. */
#define KEY_COHORT_OPEN     "campus:{c:%s}:open"
/* Hash: module id -> UTC instant (ms) after which a SUBMIT is late. */
#define KEY_COHORT_DUE      "campus:{c:%s}:due"
/* Hash: "open LEARNER MODULE" or "due LEARNER MODULE" -> UTC ms: EXTEND. */
#define KEY_COHORT_EXTEND   "campus:{c:%s}:extend"
/* Hash: "LEARNER EXERCISE" -> the number of the first late attempt. */
#define KEY_COHORT_LATE     "campus:{c:%s}:late"
/* Hash: "l:NAME" -> "+COURSE" or "-", "t:NAME" -> "+" or "-": a membership
 * change written to the cohort and not yet to the user. */
#define KEY_COHORT_PENDING  "campus:{c:%s}:pending"
/* Hash: cohort id -> course: the cohorts a user learns in. */
#define KEY_USER_COHORTS    "campus:{u:%s}:cohorts"
/* Set: cohort ids a user runs as a trainer. */
#define KEY_USER_TEACHES    "campus:{u:%s}:teaches"
/* String: wrong enrolment codes sent by this account in the window (TTL). */
#define KEY_JOIN_FAILS      "campus:{u:%s}:joinfails"
/* String: the last cohort id. */
#define KEY_COHORT_SEQ      "campus:{cohorts}:seq"
/* Sorted set: every cohort id, scored by creation time (ms): admins' LIST. */
#define KEY_COHORT_ALL      "campus:{cohorts}:all"
/* Hash: enrolment code -> cohort id. JOIN checks the code against the
 * cohort's own meta too, so a stale entry opens nothing. */
#define KEY_COHORT_CODES    "campus:{cohorts}:codes"
/* Set: cohort ids with pending membership changes, replayed on a timer. */
#define KEY_COHORT_DIRTY    "campus:{cohorts}:dirty"

/* ---- certificates (cmd-cert.c) ----
 * A learner's credentials under {u:NAME}; the index by credential id, the
 * status list numbering and revocations under {certs}. */

/* Hash: course id -> JSON {"id", "jwt", "issued" (ms), "index", "cohort"}:
 * the credential issued for that course (one per course, kept). */
#define KEY_USER_CERTS     "campus:{u:%s}:certs"
/* Hash: credential id (a UUID) -> "USER COURSE". */
#define KEY_CERT_INDEX     "campus:{certs}:by-id"
/* String: the last status list index handed out (INCR). */
#define KEY_CERT_SEQ       "campus:{certs}:seq"
/* Hash: credential id -> JSON {"reason", "by", "at" (ms), "index"}. */
#define KEY_CERT_REVOKED   "campus:{certs}:revoked"

/* ---- pub/sub channels (bus.c): named here like keys, holding nothing ----
 * Channel: "RELOAD all" publishes here; every worker of every machine
 * reloads its courses. The message is who asked ("admin@host pid"). */
#define KEY_CHAN_RELOAD    "campus:reload"

/* ---- live sessions (cmd-live.c, live-bus.c) ----
 * Everything of one cohort's live sessions under its tag {c:ID}. Event ids
 * count up for the cohort and never go back, across sessions. */

/* Hash: session (ID-N), sessions (count), started (ms), by, state
 * (live|ended), lesson, anchor, seq (last event id), poll (number of the
 * last poll), poll_open (0/1), poll_gift (its GIFT text), poll_view (its
 * JSON view), said (JSON array of the last LIVE_SAID_MAX SAY texts). */
#define KEY_LIVE          "campus:{c:%s}:live"
/* List: the session's events as JSON, oldest first, capped at
 * LIVE_EVENTS_MAX: what a reconnecting SSE client is replayed from. */
#define KEY_LIVE_EVENTS   "campus:{c:%s}:live:events"
/* Pub/sub channel: each event as it happens (no data stored). */
#define KEY_LIVE_CHANNEL  "campus:{c:%s}:live:channel"
/* The PSUBSCRIBE pattern of those channels (live-bus.c). */
#define KEY_LIVE_CHANNEL_MATCH "campus:{c:*}:live:channel"
/* Sorted set: learners present, scored by the end of their lease (ms). */
#define KEY_LIVE_ROOM     "campus:{c:%s}:live:room"
/* Hash: the open poll's answers by bucket (option letter, true/false,
 * right/wrong), and "_right", "_answers". */
#define KEY_LIVE_TALLY    "campus:{c:%s}:live:tally"
/* Hash: poll number -> JSON {gift, view, tally}: the polls of session N
 * (second %s). */
#define KEY_LIVE_POLLS    "campus:{c:%s}:live:%s:polls"
/* Hash: "POLL LEARNER" -> JSON {answer, bucket, score, at}: the last answer
 * of each learner to each poll of session N (second %s). */
#define KEY_LIVE_ANSWERS  "campus:{c:%s}:live:%s:answers"

/* Entries kept in a learner's event stream (approximately: MAXLEN ~). */
#define KEYS_EVENTS_MAX 5000
/* Sessions kept per account; the oldest goes when a new one would pass it. */
#define KEYS_SESSIONS_MAX 16
/* A new "viewed" event for a lesson only after this long since the last view. */
#define KEYS_VIEW_GAP_MS (30 * 60 * 1000)

#endif
