/* auth.h: password hashing (Argon2id for new hashes, scrypt still read, on
 * a worker pool), session tokens, and the rules for account names and
 * passwords. */
#ifndef CAMPUS_AUTH_H
#define CAMPUS_AUTH_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;

#define AUTH_NAME_MIN      3
#define AUTH_NAME_MAX      32
#define AUTH_PASSWORD_MIN  10
#define AUTH_PASSWORD_MAX  1024
#define AUTH_SALT_BYTES    16
#define AUTH_KEY_BYTES     32
#define AUTH_TOKEN_BYTES   32          /* 256 random bits per session token */
#define AUTH_HASH_MAX      160         /* longest stored password string, NUL included */
#define AUTH_TOKEN_MAX     (AUTH_NAME_MAX + 1 + 44)   /* "name.secret" with its NUL */
#define AUTH_TOKEN_HASH_MAX 65         /* SHA-256 of a token in hex, NUL included */

/* Bounds on scrypt parameters, for new hashes and for stored ones (a stored
 * string outside them is refused rather than computed). The config table's
 * scrypt_ln, scrypt_r and scrypt_p take their bounds from here. */
#define AUTH_LN_MIN 10
#define AUTH_LN_MAX 22
#define AUTH_R_MIN  1
#define AUTH_R_MAX  32
#define AUTH_P_MIN  1
#define AUTH_P_MAX  16

/* Bounds on Argon2id parameters, for new hashes and stored ones alike:
 * memory in KiB, passes, lanes. The config table's argon2_m, argon2_t and
 * argon2_p take their bounds from here. */
#define AUTH_ARGON2_M_MIN 64
#define AUTH_ARGON2_M_MAX 262144
#define AUTH_ARGON2_T_MIN 1
#define AUTH_ARGON2_T_MAX 16
#define AUTH_ARGON2_P_MIN 1
#define AUTH_ARGON2_P_MAX 16

/* Bounds on login_queue_wait_ms, the longest a login may wait for its hash,
 * the hash included (estimated when it is queued; past it the answer is 503
 * at once; and a queued job no thread has taken in time is answered
 * AUTH_LATE).
 * Without a loaded config (unit tests) the pool takes AUTH_WAIT_MS_MAX. */
#define AUTH_WAIT_MS_MIN 100
#define AUTH_WAIT_MS_MAX 120000

/* Jobs queued at most, whatever the wait estimate says: a bound on memory. */
#define AUTH_QUEUE_HARD_MAX 4096

/* The hashing threads run at this nice value (the lowest there is), and
 * under SCHED_IDLE with hash_threads_idle, with a time slice of
 * hash_slice_us, named AUTH_THREAD_NAME (/proc/PID/task/TID/comm), so that
 * a login storm takes only the CPU the loop and its store leave. Linux
 * takes a fair task's slice between 100 µs and 100 ms. */
#define AUTH_THREAD_NICE 19
/* Hashing threads at most; hash_threads 0 (the default) is one fewer than
 * the cores, at least one: a core is always left to the event loop, its
 * Redis and the readers on it (see auth.c, pool_threads). */
#define AUTH_THREADS_MAX 4
#define AUTH_SLICE_US_MAX 100000
#define AUTH_THREAD_NAME "campus-hash"

enum auth_alg { AUTH_ALG_ARGON2ID, AUTH_ALG_SCRYPT };

/* A hash's algorithm and cost. scrypt: N = 2^ln, block size r,
 * parallelism p. Argon2id: m KiB of memory, t passes, p lanes. */
struct auth_params {
    enum auth_alg alg;
    int ln, r, p;                /* scrypt (p is shared with Argon2id's lanes) */
    int m, t;                    /* Argon2id */
};

/* The parameters new hashes get: from the config (password_hash, and
 * argon2_m, argon2_t, argon2_p or scrypt_ln, scrypt_r, scrypt_p). */
struct auth_params auth_params_current(void);

/* True when name is 3 to 32 of [a-z0-9._-]. */
bool auth_name_valid(const char *name, size_t len);

/* NULL when the password is acceptable (10 to 1,024 bytes of UTF-8), else a
 * static message saying why not. */
const char *auth_password_problem(const char *pw, size_t len);

/* Hashes a password with a fresh 16-byte salt into out, as
 * "$argon2id$v=19$m=M,t=T,p=P$SALT$KEY" (the PHC string format) or
 * "$scrypt$ln=L,r=R,p=P$SALT$KEY" (base64 without padding). Slow: call it
 * from the pool or from a command-line tool, never on the event loop.
 * Returns 0, or -1 when the parameters are out of bounds or hashing fails. */
int auth_hash_password(const char *pw, size_t len, const struct auth_params *p,
                       char out[AUTH_HASH_MAX]);

/* Checks a password against a stored string, in constant time over the key.
 * Returns 1 on a match, 0 on a mismatch, -1 when stored is malformed. Slow. */
int auth_verify_password(const char *pw, size_t len, const char *stored);

/* Reads the parameters of a stored string. Returns 0 or -1 if malformed. */
int auth_stored_params(const char *stored, struct auth_params *p);

/* True when the stored string should be re-hashed with want at the next
 * successful login: another algorithm (scrypt when Argon2id is wanted), or
 * weaker in any parameter, or unreadable. */
bool auth_needs_rehash(const char *stored, const struct auth_params *want);

/* A new session token "NAME.SECRET" (SECRET: 256 bits from the OpenSSL RNG,
 * base64url) in token, and the hex SHA-256 of the whole token in hash_hex:
 * only the hash is ever stored. */
void auth_token_new(const char *name, char token[AUTH_TOKEN_MAX], char hash_hex[AUTH_TOKEN_HASH_MAX]);

/* Splits a token sent by a client: the name goes to name, the hex SHA-256
 * of the whole token to hash_hex. Returns 0, or -1 if it is not a token. */
int auth_token_parse(const char *token, size_t len, char name[AUTH_NAME_MAX + 1],
                     char hash_hex[AUTH_TOKEN_HASH_MAX]);

/* Compares two 64-digit hex hashes in constant time. */
bool auth_hash_equal(const char *a, const char *b);

/* ---- the worker pool: hashing off the event loop ---- */

/* A job's result when the pool was stopped before it ran. */
#define AUTH_STOPPED (-2)
/* A job's result when no thread took it in time to end within
 * login_queue_wait_ms of its submission (auth_submit_hash): it was never
 * run, and the caller answers 503 as for a full queue. */
#define AUTH_LATE (-3)

/* result: for a hash job 0 and the stored string in hash, or -1; for a
 * verify job 1 (match), 0 (mismatch) or -1 (malformed stored string).
 * AUTH_STOPPED (-2) means the pool was stopped before the job ran, AUTH_LATE
 * (-3) that its wait passed the bound. Called on the event loop thread, once
 * per submitted job; hash is valid during the call only. */
typedef void auth_done_cb(int result, const char *hash, void *priv);

/* Starts the worker threads (one per core, at AUTH_THREAD_NICE) and the
 * wake-up event on base. Called lazily by the first submit (with the
 * server's base); tests call it with their own. */
void auth_pool_start(struct event_base *base);

/* Queues a hash of the password with the current parameters. The password
 * is copied (and wiped after use). Returns 0, or -1 when no thread is free
 * and the job's wait for one (auth_pool_wait_estimate_ms) plus one hash
 * would pass login_queue_wait_ms, or AUTH_QUEUE_HARD_MAX jobs are queued
 * (cb is not called then). A job not taken by a thread by then less one
 * hash (never less than half of it) is answered AUTH_LATE at that moment,
 * without being run. */
int auth_submit_hash(const char *pw, size_t len, auth_done_cb *cb, void *priv);

/* Queues a verify against stored; stored NULL runs the same work against a
 * throwaway hash with the current parameters and reports 0, so that an
 * unknown name costs what a known one does. Same return as auth_submit_hash. */
int auth_submit_verify(const char *pw, size_t len, const char *stored, auth_done_cb *cb,
                       void *priv);

/* Jobs queued or running now. */
int auth_pool_busy(void);
/* Jobs a thread is running now (the rest of busy waits in the queue). */
int auth_pool_running(void);

/* The wait in ms a job queued now is expected to have for a thread (0 when
 * one is free): the jobs queued ahead of it take the threads in turn as
 * each thread's current job ends, every job taking the larger of the recent
 * average and the longest a running job has taken so far. */
long auth_pool_wait_estimate_ms(void);

/* Stops the threads after the job each is running; every job not run is
 * answered with -2, every finished one with its result, before this returns.
 * The pool can be started again afterwards. */
void auth_pool_stop(void);

#endif
