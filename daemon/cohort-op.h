/* cohort-op.h: one COHORT request between its Redis steps, shared by
 * cmd-cohort.c (the verbs, membership on both sides) and cohort-enrol.c
 * (ADD, REMOVE, ENROL). */
#ifndef CAMPUS_COHORT_OP_H
#define CAMPUS_COHORT_OP_H

#include "auth.h"
#include "campusd.h"

/* One COHORT request between its Redis steps. req is NULL for a repair run
 * by the timer. */
struct cop {
    struct req *req;
    char id[24];
    char user[AUTH_NAME_MAX + 1];
    enum role role;
    json_t *meta;                /* the cohort's meta hash, as an object */
    bool trainer, learner;       /* the asker's place in it */
    long long nlearners, ntrainers;
    void (*next)(struct cop *);  /* after cohort_load or cop_sync */
    void (*managed)(struct cop *); /* after cop_load_managed's check */
    json_t *settle;              /* cop_sync: the pending entries as read */
    int waiting;                 /* replies still due */
    bool failed;
    json_t *names;               /* ADD, REMOVE, ENROL: the learners */
    json_t *extras;              /* ENROL: roster JSON per learner */
    json_t *create;              /* ENROL: names of accounts to create */
    json_t *passwords;           /* ENROL: their one-time passwords */
    size_t hashed;
    json_t *hashes;
    char op;                     /* '+' or '-' */
    int code;                    /* the answer once synced */
    char msg[REPLY_MSG_MAX];
    char *body;                  /* ... and its body (owned) */
    const char *body_type;
};

/* cmd-cohort.c */
/* Answers the request (if any) and frees op. */
void cop_answer(struct cop *op, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void cop_store_failed(struct cop *op);
/* True for no reply or an error reply. */
bool cop_reply_bad(struct redisReply *r);
/* Loads the cohort named by argv[2] and calls next(op) only for those who
 * run it (op may be freed when this returns). */
void cop_load_managed(struct cop *op, void (*next)(struct cop *));
/* Writes op->names (with op->extras) into (op->op '+') or out of ('-') the
 * cohort, then the users' side, then answers what op holds or a count. */
void cop_members_write(struct cop *op);

/* cohort-enrol.c */
void cop_enrol(struct cop *op);
void cop_add_loaded(struct cop *op);
void cop_remove_loaded(struct cop *op);

#endif
