/* cohort.h: what the cohort files share with each other and with the
 * handlers of READ, EXERCISE, SUBMIT and COURSE (paced release). */
#ifndef CAMPUS_COHORT_H
#define CAMPUS_COHORT_H

#include "campusd.h"

#define COHORT_ENROL_ROWS_MAX 500    /* rows of one ENROL request */
#define COHORT_CODE_LEN       10     /* characters of an enrolment code */
#define COHORT_NAME_MAX       120    /* bytes of a cohort's name */
#define COHORT_LIST_MAX       1000   /* cohorts one LIST shows */
#define COHORT_PAGE           500    /* learners read per Redis round trip */
#define COHORT_OTP_LEN        16     /* characters of a one-time password */
#define COHORT_MODULES_MAX    256    /* modules of a course a cohort can pace */
#define COHORT_SCHEDULE_MAX   65536  /* bytes of a CREATE's schedule document */

/* What a gated request is about to do. */
enum cohort_gate_kind {
    COHORT_GATE_READ,            /* READ, EXERCISE: refused before the module opens */
    COHORT_GATE_SUBMIT,          /* SUBMIT: also refused in a closed cohort; marked late after the due date */
};

/* Paced release, called first thing by a gated handler with the request's
 * item id in argv[1]. Returns false when the handler should go on at once
 * (anonymous caller, no cohort of that course, the store down, or the check
 * already passed). Returns true when the gate took the request over: it has
 * answered it (403 naming the opening date in the cohort's time zone), or it
 * will call again(req) once Redis has told it the module is open. */
bool cohort_gate(struct req *req, enum cohort_gate_kind kind, void (*again)(struct req *));

/* COURSE id: for a learner in cohorts of the course, adds an "opens"
 * column to the outline: the date (in the cohort's time zone) a module still
 * locked for them opens, empty once open. Same contract as cohort_gate. */
bool cohort_gate_outline(struct req *req, void (*again)(struct req *));

/* REVIEW LIST: a trainer who runs cohorts sees only the answers of their
 * learners; "cohort:ID" among the arguments (taken out before the handler
 * sees them) narrows the list to one cohort, for its trainers and admins.
 * Same return contract as cohort_gate. */
bool cohort_review_filter(struct req *req, void (*again)(struct req *));

/* Replays membership changes cut short (called every second; works every
 * few seconds). */
void cohort_tick(void);

/* cmd-cohort.c: a fresh enrolment code or one-time password from the
 * unambiguous alphabet. */
void cohort_random(char *out, size_t len);

/* cohort-report.c: COHORT PROGRESS and COHORT GRADES of cohort id, whose
 * meta hash is meta (borrowed), once the asker is known to run it. */
void cohort_report_progress(struct req *req, const char *id, json_t *meta);
void cohort_report_grades(struct req *req, const char *id, json_t *meta);
/* COHORT ATTEMPTS id learner: every attempt of one learner of the cohort at
 * the course's exercises, in course order. */
void cohort_report_attempts(struct req *req, const char *id, json_t *meta, const char *learner);

#endif
