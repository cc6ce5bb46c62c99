/* live.h: what the live-session files share: cmd-live.c (the LIVE verbs),
 * live-api.c (their HTTP routes), live-bus.c (the subscriber, rooms and
 * delivery), live-sse.c (Server-Sent Events) and live-poll.c (polls as one
 * GIFT question). docs/PROTOCOL.md ("Live sessions") defines the push lines
 * and events.
 *
 * An event is a JSON object: {"id": N, "type": T, "session": S, "data": {...}},
 * written by a Lua script that numbers it (ids count up per cohort and never
 * go back), appends it to the cohort's event list and publishes it on the
 * cohort's channel in one step. Two kinds are transient, for trainers only,
 * neither numbered nor kept: "room" and the running "tally"; they carry
 * "trainer": true and the id of the last numbered event. */
#ifndef CAMPUS_LIVE_H
#define CAMPUS_LIVE_H

#include "auth.h"
#include "campusd.h"

#define LIVE_EVENTS_MAX      256     /* events kept for replay per cohort */
#define LIVE_SAID_MAX        5       /* SAY texts kept in the session's state */
#define LIVE_TEXT_MAX        2000    /* bytes of a SAY or an ANSWER */
#define LIVE_GIFT_MAX        8192    /* bytes of a poll's GIFT text */
#define LIVE_ROOM_LEASE_MS   60000   /* a learner counts as present this long after the last refresh */
#define LIVE_ROOM_REFRESH_S  20      /* how often a process renews its learners' leases */
#define LIVE_SSE_HEARTBEAT_S 15      /* a comment line on every stream this often */
#define LIVE_HELD_MAX        512     /* events held per room while it catches up */
#define LIVE_COHORT_MAX      24      /* bytes of a cohort id, NUL included */

struct live_room;

enum live_watch_kind { LIVE_WATCH_CTP, LIVE_WATCH_SSE };

/* One follower of a cohort's sessions in this process: a CTP/1 connection
 * after LIVE JOIN or LIVE START, or an SSE stream. */
struct live_watch {
    enum live_watch_kind kind;
    struct conn *conn;           /* CTP/1 */
    struct live_sse *sse;        /* SSE */
    struct live_room *room;
    struct live_watch *prev, *next;
    char user[AUTH_NAME_MAX + 1];
    bool trainer;                /* gets the transient events */
    bool learner;                /* counts in the room */
    long long last;              /* id of the last numbered event it has had (or skipped) */
    bool resync_due;             /* pushes were dropped: one RESYNC once drained */
};

/* ---- live-bus.c ---- */

/* The room of a cohort in this process (made on first use); hold it with
 * live_room_hold while a join is under way, so events that arrive before
 * the joiner is added are noticed (see live_watch_add). */
struct live_room *live_room_get(const char *cohort);
void live_room_hold(struct live_room *room);
void live_room_release(struct live_room *room);
const char *live_room_cohort(const struct live_room *room);
/* Adds w (filled by the caller: kind, conn or sse, user, trainer, learner)
 * to room as having seen every event up to last; seq is the newest id the
 * caller read from the state. Events after last reach it: at once when
 * nothing newer is known, else by a catch-up read of the event list. */
void live_watch_add(struct live_watch *w, struct live_room *room, long long last, long long seq);
/* Takes w out of its room (and the learner out of the room in Redis when
 * no other follower of this process is that learner there); frees w. */
void live_watch_remove(struct live_watch *w);
/* True when the subscriber is connected and subscribed. */
bool live_bus_up(void);
/* Sends one event object to one follower, as a push line or SSE event;
 * returns false when it was dropped (the follower is over its limit). */
bool live_send(struct live_watch *w, json_t *ev);
/* Sends the bare notices: "paused", "resumed", "resync". */
void live_send_notice(struct live_watch *w, const char *type);
/* Counts and writes presence: op '+' or '-' for user in cohort's room
 * (fire and forget; publishes a room event when it changes). */
void live_presence(const char *cohort, char op, const char *user);
void live_bus_start(struct event_base *base);
void live_bus_stop(void);
/* Called every second (server.c): reconnects the subscriber, follows the
 * store's state, renews leases, retries catch-ups. */
void live_bus_tick(void);

/* ---- live-sse.c ---- */

/* Starts the event stream of an HTTP request already checked for the
 * cohort (the handler of LIVE EVENTS); the stream then owns r. */
struct evhttp_request;
void live_sse_begin(struct evhttp_request *r, const char *cohort, const char *user, bool trainer,
                    bool learner, long long seq, const char *session);
/* Writes bytes to the stream; -1 when dropped (over live_output_max). */
int live_sse_write(struct live_sse *s, const void *data, size_t len);
/* Ends every stream (shutdown). */
void live_sse_stop(void);

/* ---- live-poll.c: pure ---- */

struct gift_question;
/* Parses text as exactly one GIFT question of a kind a poll can be
 * (multiple choice, true/false, numerical, short answer) into q (caller
 * frees with gift_question_free). Returns 0, or -1 with why in err. */
int live_poll_parse(const char *text, size_t len, struct gift_question *q, char *err, size_t n);
/* The learner's view of q: {"kind", "question", "options": [...]} (new). */
json_t *live_poll_view(const struct gift_question *q);
/* Grades answer to q: the bucket the tally counts it in (option letter,
 * "true"/"false", or "right"/"wrong"; out holds at least 16 bytes) and
 * whether it is right. Returns 0, or -1 with what was expected in err, said
 * in lang ("fr", "es"; English for anything else, NULL too). */
int live_poll_grade(const struct gift_question *q, const char *answer, const char *lang,
                    char *bucket, size_t bn, bool *right, double *score, char *err, size_t n);
/* The CTP/1 push of an event (new evbuffer), or NULL for an unknown type. */
struct evbuffer *live_render_ctp(json_t *ev);
/* The SSE event of an event: "id:", "event:", "data:" lines (new evbuffer). */
struct evbuffer *live_render_sse(json_t *ev);

#endif
