/* auth.c: password hashing (Argon2id through libsodium, or libargon2 for
 * more than one lane; scrypt through OpenSSL) on a worker pool with a
 * bounded wait, session tokens, and the name and password rules. */
#include "campusd.h"

#include "auth.h"
#include "hash-mem.h"

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long the first login waits for the hashing threads to start. */
#define AUTH_START_WAIT_S 2
/* A hashing thread idle this long gives back the memory it keeps for
 * hashes (hash-mem.h), so that campusd holds it only while people log in. */
#define AUTH_KEEP_IDLE_S 10
/* What a hash is taken to cost before the pool has timed one, ms. */
#define AUTH_JOB_MS_GUESS 100

struct auth_params auth_params_current(void)
{
    struct auth_params p = { .alg = AUTH_ALG_ARGON2ID };

    if (cfg.password_hash && strcmp(cfg.password_hash, "scrypt") == 0) {
        p.alg = AUTH_ALG_SCRYPT;
        p.ln = (int)cfg.scrypt_ln;
        p.r = (int)cfg.scrypt_r;
        p.p = (int)cfg.scrypt_p;
        if (p.ln < AUTH_LN_MIN || p.r < AUTH_R_MIN || p.p < AUTH_P_MIN)   /* config not loaded */
            fatal("auth: scrypt parameters unset");
        return p;
    }
    p.m = (int)cfg.argon2_m;
    p.t = (int)cfg.argon2_t;
    p.p = (int)cfg.argon2_p;
    if (p.m < AUTH_ARGON2_M_MIN || p.t < AUTH_ARGON2_T_MIN || p.p < AUTH_ARGON2_P_MIN) {
        /* config not loaded (tests): OWASP's first choice */
        p.m = 19456;
        p.t = 2;
        p.p = 1;
    }
    return p;
}

bool auth_name_valid(const char *name, size_t len)
{
    if (len < AUTH_NAME_MIN || len > AUTH_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

const char *auth_password_problem(const char *pw, size_t len)
{
    if (len < AUTH_PASSWORD_MIN)
        return "a password needs at least 10 bytes";
    if (len > AUTH_PASSWORD_MAX)
        return "a password may have at most 1024 bytes";
    if (!utf8_valid(pw, len))
        return "a password must be UTF-8";
    return NULL;
}

static bool params_ok(const struct auth_params *p)
{
    if (p->alg == AUTH_ALG_ARGON2ID)
        return p->m >= AUTH_ARGON2_M_MIN && p->m <= AUTH_ARGON2_M_MAX && p->t >= AUTH_ARGON2_T_MIN &&
               p->t <= AUTH_ARGON2_T_MAX && p->p >= AUTH_ARGON2_P_MIN && p->p <= AUTH_ARGON2_P_MAX &&
               p->m >= 8 * p->p;
    return p->ln >= AUTH_LN_MIN && p->ln <= AUTH_LN_MAX && p->r >= AUTH_R_MIN && p->r <= AUTH_R_MAX &&
           p->p >= AUTH_P_MIN && p->p <= AUTH_P_MAX;
}

/* The key of pw under p into key: Argon2id (version 1.3), or scrypt with
 * OpenSSL's 32 MiB memory cap raised to what the parameters need. Returns
 * 0 or -1. */
static int derive(const char *pw, size_t len, const unsigned char *salt, size_t saltlen,
                  const struct auth_params *p, unsigned char key[AUTH_KEY_BYTES])
{
    /* One lane (OWASP's setting and the default) goes through libsodium,
     * which picks AVX2/AVX-512 code at run time: the same bytes as the
     * reference implementation in two thirds of its CPU time. libsodium
     * takes one lane only; more go through libargon2. */
    if (p->alg == AUTH_ALG_ARGON2ID && p->p == 1 && saltlen == crypto_pwhash_SALTBYTES &&
        sodium_init() >= 0)
        return crypto_pwhash_argon2id(key, AUTH_KEY_BYTES, len ? pw : "", len, salt,
                                      (unsigned long long)p->t, (size_t)p->m * 1024,
                                      crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
    if (p->alg == AUTH_ALG_ARGON2ID)
        return argon2id_hash_raw((uint32_t)p->t, (uint32_t)p->m, (uint32_t)p->p, len ? pw : "", len,
                                 salt, saltlen, key, AUTH_KEY_BYTES) == ARGON2_OK ? 0 : -1;
    uint64_t n = (uint64_t)1 << p->ln;
    uint64_t maxmem = (uint64_t)128 * (uint64_t)p->r * (n + (uint64_t)p->p + 2) + 65536;

    if (EVP_PBE_scrypt(len ? pw : "", len, salt, saltlen, n, (uint64_t)p->r, (uint64_t)p->p,
                       maxmem, key, AUTH_KEY_BYTES) != 1)
        return -1;
    return 0;
}

/* Standard base64 without padding into out (NUL-terminated). */
static void b64_encode(const unsigned char *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        out[--len] = '\0';
}

/* Decodes unpadded standard base64 of exactly want bytes. Returns 0 or -1. */
static int b64_decode(const char *in, size_t inlen, unsigned char *out, size_t want)
{
    char buf[128];
    unsigned char tmp[96];

    if (inlen == 0 || inlen > 88)
        return -1;
    memcpy(buf, in, inlen);
    while (inlen % 4)
        buf[inlen++] = '=';
    int n = EVP_DecodeBlock(tmp, (unsigned char *)buf, (int)inlen);
    if (n < 0)
        return -1;
    size_t pad = 0;
    for (size_t i = inlen; i > 0 && buf[i - 1] == '='; i--)
        pad++;
    if ((size_t)n - pad != want)
        return -1;
    memcpy(out, tmp, want);
    return 0;
}

int auth_hash_password(const char *pw, size_t len, const struct auth_params *p,
                       char out[AUTH_HASH_MAX])
{
    unsigned char salt[AUTH_SALT_BYTES], key[AUTH_KEY_BYTES];
    char s64[32], k64[48];

    if (!params_ok(p) || RAND_bytes(salt, sizeof(salt)) != 1 ||
        derive(pw, len, salt, sizeof(salt), p, key) < 0)
        return -1;
    b64_encode(salt, sizeof(salt), s64);
    b64_encode(key, sizeof(key), k64);
    OPENSSL_cleanse(key, sizeof(key));
    if (p->alg == AUTH_ALG_ARGON2ID)
        snprintf(out, AUTH_HASH_MAX, "$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", ARGON2_VERSION_13, p->m,
                 p->t, p->p, s64, k64);
    else
        snprintf(out, AUTH_HASH_MAX, "$scrypt$ln=%d,r=%d,p=%d$%s$%s", p->ln, p->r, p->p, s64, k64);
    return 0;
}

/* Splits a stored string into parameters, salt and key. Returns 0 or -1
 * (parameters outside the bounds included: they are never computed). */
static int parse_stored(const char *stored, struct auth_params *p,
                        unsigned char salt[AUTH_SALT_BYTES], unsigned char key[AUTH_KEY_BYTES])
{
    int used = 0, version = 0;
    const char *s;

    memset(p, 0, sizeof(*p));
    if (stored == NULL)
        return -1;
    if (strncmp(stored, "$argon2id$", 10) == 0) {
        p->alg = AUTH_ALG_ARGON2ID;
        if (sscanf(stored + 10, "v=%d$m=%d,t=%d,p=%d$%n", &version, &p->m, &p->t, &p->p, &used) != 4 ||
            used == 0 || version != ARGON2_VERSION_13)
            return -1;
        s = stored + 10 + used;
    } else if (strncmp(stored, "$scrypt$", 8) == 0) {
        p->alg = AUTH_ALG_SCRYPT;
        if (sscanf(stored + 8, "ln=%d,r=%d,p=%d$%n", &p->ln, &p->r, &p->p, &used) != 3 || used == 0)
            return -1;
        s = stored + 8 + used;
    } else {
        return -1;
    }
    if (!params_ok(p))
        return -1;
    const char *dollar = strchr(s, '$');
    if (dollar == NULL)
        return -1;
    if (salt && b64_decode(s, (size_t)(dollar - s), salt, AUTH_SALT_BYTES) < 0)
        return -1;
    if (key && b64_decode(dollar + 1, strlen(dollar + 1), key, AUTH_KEY_BYTES) < 0)
        return -1;
    return 0;
}

int auth_stored_params(const char *stored, struct auth_params *p)
{
    unsigned char salt[AUTH_SALT_BYTES], key[AUTH_KEY_BYTES];
    return parse_stored(stored, p, salt, key);
}

int auth_verify_password(const char *pw, size_t len, const char *stored)
{
    struct auth_params p;
    unsigned char salt[AUTH_SALT_BYTES], want[AUTH_KEY_BYTES], got[AUTH_KEY_BYTES];

    if (parse_stored(stored, &p, salt, want) < 0)
        return -1;
    if (derive(pw, len, salt, sizeof(salt), &p, got) < 0)
        return -1;
    int same = CRYPTO_memcmp(got, want, AUTH_KEY_BYTES) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return same;
}

bool auth_needs_rehash(const char *stored, const struct auth_params *want)
{
    struct auth_params p;

    if (auth_stored_params(stored, &p) < 0 || p.alg != want->alg)
        return true;
    if (p.alg == AUTH_ALG_ARGON2ID)
        return p.m < want->m || p.t < want->t || p.p < want->p;
    return p.ln < want->ln || p.r < want->r || p.p < want->p;
}

void auth_token_new(const char *name, char token[AUTH_TOKEN_MAX], char hash_hex[AUTH_TOKEN_HASH_MAX])
{
    unsigned char rnd[AUTH_TOKEN_BYTES];
    char b64[48];

    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        fatal("RAND_bytes failed: no randomness for a session token");
    b64_encode(rnd, sizeof(rnd), b64);
    OPENSSL_cleanse(rnd, sizeof(rnd));
    for (char *c = b64; *c; c++)
        if (*c == '+')
            *c = '-';
        else if (*c == '/')
            *c = '_';
    snprintf(token, AUTH_TOKEN_MAX, "%s.%s", name, b64);
    sha256_hex(token, strlen(token), hash_hex);
}

int auth_token_parse(const char *token, size_t len, char name[AUTH_NAME_MAX + 1],
                     char hash_hex[AUTH_TOKEN_HASH_MAX])
{
    const char *dot = NULL;

    if (len >= AUTH_TOKEN_MAX)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (token[i] == '.')
            dot = token + i;
    if (dot == NULL)
        return -1;
    size_t nlen = (size_t)(dot - token), slen = len - nlen - 1;
    if (!auth_name_valid(token, nlen) || slen != 43)
        return -1;
    for (size_t i = 0; i < slen; i++) {
        char c = dot[1 + i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return -1;
    }
    memcpy(name, token, nlen);
    name[nlen] = '\0';
    sha256_hex(token, len, hash_hex);
    return 0;
}

bool auth_hash_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL || strlen(a) != 64 || strlen(b) != 64)
        return false;
    return CRYPTO_memcmp(a, b, 64) == 0;
}

/* ---- the worker pool ---- */

enum job_kind { JOB_HASH, JOB_VERIFY, JOB_DUMMY };

struct job {
    enum job_kind kind;
    char *pw;
    size_t len;
    char stored[AUTH_HASH_MAX];
    struct auth_params params;
    int result;
    char out[AUTH_HASH_MAX];
    double deadline_ms;          /* monotonic: a thread must take it by then, else AUTH_LATE */
    auth_done_cb *cb;
    void *priv;
    struct job *next;
};

/* Jobs go from todo (under mu) to a thread, then to done (under mu); the
 * event loop learns of done jobs through a byte on the socket pair and runs
 * their callbacks on its own thread. A job still in todo at its deadline
 * goes to done as AUTH_LATE instead, taken out by the loop's late timer or
 * by the thread that finds it too late. */
static struct {
    bool started, stopping;
    bool idle;                   /* the threads run under SCHED_IDLE (hash_threads_idle) */
    long slice_us;               /* their time slice (hash_slice_us); 0: the kernel's */
    pthread_t threads[AUTH_THREADS_MAX];
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t ready_cv;     /* a thread has named itself and lowered its priority */
    int ready;                   /* under mu: threads that have */
    struct job *todo, *todo_tail, *done, *done_tail;
    int busy;                    /* queued + running + done not yet delivered */
    int queued;                  /* under mu: jobs in todo */
    double run_since[AUTH_THREADS_MAX];   /* under mu: when each thread took its job, 0 when idle */
    double job_ms;               /* under mu: moving average of a job's time */
    bool timed;                  /* under mu: job_ms is measured, not AUTH_JOB_MS_GUESS */
    int fds[2];
    struct event *ev;
    struct event *late_ev;       /* fires at the earliest deadline in todo */
} pool = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER,
            .ready_cv = PTHREAD_COND_INITIALIZER };

static void job_free(struct job *j)
{
    if (j->pw) {
        OPENSSL_cleanse(j->pw, j->len);
        free(j->pw);
    }
    OPENSSL_cleanse(j->out, sizeof(j->out));
    free(j);
}

static void job_run(struct job *j)
{
    switch (j->kind) {
    case JOB_HASH:
        j->result = auth_hash_password(j->pw, j->len, &j->params, j->out);
        break;
    case JOB_VERIFY:
        j->result = auth_verify_password(j->pw, j->len, j->stored);
        break;
    case JOB_DUMMY:
        /* Same cost as a verify with the current parameters; never a match. */
        j->result = auth_hash_password(j->pw, j->len, &j->params, j->out) < 0 ? -1 : 0;
        j->out[0] = '\0';
        break;
    }
}

static double mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Appends j to done and wakes the loop; under mu. */
static void done_push(struct job *j)
{
    j->next = NULL;
    if (pool.done_tail)
        pool.done_tail->next = j;
    else
        pool.done = j;
    pool.done_tail = j;
    /* One byte wakes the loop; if the pipe is full a wake-up is pending. */
    ssize_t n = write(pool.fds[1], "j", 1);
    (void)n;
}

/* The first published layout of sched_setattr(2)'s argument
 * (SCHED_ATTR_SIZE_VER0), under a name of its own: glibc declares struct
 * sched_attr (and a wrapper) only from 2.41, and the kernel's header would
 * clash with that declaration. */
struct thread_sched_attr {
    uint32_t size;
    uint32_t policy;
    uint64_t flags;
    int32_t nice;
    uint32_t priority;
    uint64_t runtime;            /* for a fair policy, its time slice (Linux 6.12 and later), ns */
    uint64_t deadline;
    uint64_t period;
};

/* Puts the calling thread below the event loop: nice value and time slice
 * in one sched_setattr (where that is refused, as by a kernel before 3.14,
 * the nice value the older way, and the kernel's slice), then SCHED_IDLE
 * if asked (sched_setattr takes no nice value with that policy). Failing
 * is harmless: the thread then hashes at the loop's priority. */
static void lower_priority(pid_t tid)
{
    struct thread_sched_attr at = {
        .size = sizeof(at),
        .policy = SCHED_OTHER,
        .nice = AUTH_THREAD_NICE,
        .runtime = (uint64_t)pool.slice_us * 1000,
    };

    if (syscall(SYS_sched_setattr, tid, &at, 0) < 0) {
        log_debug("auth: sched_setattr of a hashing thread: %s", strerror(errno));
        if (setpriority(PRIO_PROCESS, (id_t)tid, AUTH_THREAD_NICE) < 0)
            log_debug("auth: hashing thread keeps the loop's nice value: %s", strerror(errno));
    }
    struct sched_param sp = { .sched_priority = 0 };
    if (pool.idle && sched_setscheduler(tid, SCHED_IDLE, &sp) < 0)
        log_debug("auth: hashing thread is not SCHED_IDLE: %s", strerror(errno));
}

static void *worker_main(void *arg)
{
    int self = (int)(intptr_t)arg;

    /* Below the event loop: a login storm must not take the loop's core.
     * At nice 19 a hash thread weighs 15 against the loop's 1,024. That
     * sets its share, not how soon a thread that wakes gets the core: the
     * kernel (EEVDF, Linux 6.6 and later) lets a task it has just picked
     * run out its slice before a waking one may take over, and without a
     * pending wake-up it looks again only at the next tick (4 ms at 250
     * Hz). The default slice is 0.7 ms times one plus log2 of the cores
     * (1.4 ms on two, as /proc/PID/sched shows), so a READ, or a reader
     * on the same machine, could wait that long or till the tick behind a
     * hash. A slice of hash_slice_us (100 µs, the least Linux takes)
     * shortens that window, at no cost to the hash's share. With
     * hash_threads_idle, SCHED_IDLE: a hash runs only on a core nothing
     * else wants, and any thread waking there takes it back at once; but
     * on a machine shared with other work, every other process does so
     * too, and the hashes starve (a burst of logins then mostly gets 503),
     * so it is for a machine of campusd's own. All of it is per thread on
     * Linux. */
    pid_t tid = (pid_t)syscall(SYS_gettid);
    pthread_setname_np(pthread_self(), AUTH_THREAD_NAME);
    lower_priority(tid);
    pthread_mutex_lock(&pool.mu);
    pool.ready++;
    pthread_cond_broadcast(&pool.ready_cv);
    for (;;) {
        while (pool.todo == NULL && !pool.stopping) {
            if (hash_mem_kept(NULL) == 0) {
                pthread_cond_wait(&pool.cv, &pool.mu);
                continue;
            }
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += AUTH_KEEP_IDLE_S;
            if (pthread_cond_timedwait(&pool.cv, &pool.mu, &until) == ETIMEDOUT &&
                pool.todo == NULL)
                hash_mem_release();
        }
        if (pool.stopping)
            break;
        struct job *j = pool.todo;
        pool.todo = j->next;
        if (pool.todo == NULL)
            pool.todo_tail = NULL;
        pool.queued--;
        double t0 = mono_ms();
        if (t0 > j->deadline_ms) {
            /* Its turn came after the bound: an answer now beats a hash
             * that would make it later still. */
            j->result = AUTH_LATE;
            done_push(j);
            continue;
        }
        pool.run_since[self] = t0;
        pthread_mutex_unlock(&pool.mu);

        /* The hash's memory is this thread's, kept from the last hash:
         * no page faults (hash-mem.h). */
        hash_mem_arm(true);
        job_run(j);
        hash_mem_arm(false);
        double took = mono_ms() - t0;

        pthread_mutex_lock(&pool.mu);
        pool.run_since[self] = 0;
        /* The first job timed replaces the guess; later ones move it. */
        pool.job_ms = pool.timed ? pool.job_ms * 0.8 + took * 0.2 : took;
        pool.timed = true;
        done_push(j);
    }
    pthread_mutex_unlock(&pool.mu);
    hash_mem_release();
    return NULL;
}

/* Runs the callbacks of every finished job, on the loop thread. */
static void deliver_done(void)
{
    pthread_mutex_lock(&pool.mu);
    struct job *j = pool.done;
    pool.done = pool.done_tail = NULL;
    pthread_mutex_unlock(&pool.mu);
    while (j) {
        struct job *next = j->next;
        pool.busy--;
        j->cb(j->result, j->result == 0 && j->kind == JOB_HASH ? j->out : NULL, j->priv);
        job_free(j);
        j = next;
    }
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
    char buf[256];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
    deliver_done();
}

/* Arms the late timer for the earliest deadline in todo, if any; on the
 * loop thread. */
static void late_arm(void)
{
    pthread_mutex_lock(&pool.mu);
    double first = 0;
    for (struct job *j = pool.todo; j; j = j->next)
        if (first == 0 || j->deadline_ms < first)
            first = j->deadline_ms;
    pthread_mutex_unlock(&pool.mu);
    if (first == 0)
        return;
    double in = first - mono_ms() + 1;
    if (in < 1)
        in = 1;
    struct timeval tv = { (time_t)(in / 1000), (suseconds_t)((long)in % 1000) * 1000 };
    evtimer_add(pool.late_ev, &tv);
}

/* The earliest deadline has come: every job still queued past its own is
 * answered AUTH_LATE now, not when a thread gets to it. */
static void late_cb(evutil_socket_t fd, short what, void *arg)
{
    double now = mono_ms();

    pthread_mutex_lock(&pool.mu);
    struct job **pp = &pool.todo, *last = NULL;
    while (*pp) {
        struct job *j = *pp;
        if (j->deadline_ms < now) {
            *pp = j->next;
            pool.queued--;
            j->result = AUTH_LATE;
            done_push(j);
        } else {
            last = j;
            pp = &j->next;
        }
    }
    pool.todo_tail = last;
    pthread_mutex_unlock(&pool.mu);
    deliver_done();
    late_arm();
}

static int pool_threads(void)
{
    long n = cfg.hash_threads;
    /* By default one fewer than the cores. A thread per core, even at nice
     * 19 and a short slice, left every core hashing under a steady stream
     * of logins, and the READ p99 beside them at 1.3x to 2.4x of alone on
     * two cores; with one thread, 0.9x to 1.3x, and as many logins
     * answered, since a hash with its memory kept (hash-mem.h) costs 17 to
     * 22 ms, not 26 to 30 (tests/bench/README.md). A burst then takes
     * longer, within its bound. */
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN) - 1;
    if (n < 1)
        n = 1;
    if (n > AUTH_THREADS_MAX)
        n = AUTH_THREADS_MAX;
    return (int)n;
}

void auth_pool_start(struct event_base *base)
{
    if (pool.started)
        return;
    if (pipe2(pool.fds, O_NONBLOCK | O_CLOEXEC) < 0)
        fatal("auth: cannot make the wake-up pipe: %s", strerror(errno));
    pool.ev = event_new(base, pool.fds[0], EV_READ | EV_PERSIST, wake_cb, NULL);
    event_add(pool.ev, NULL);
    pool.late_ev = evtimer_new(base, late_cb, NULL);
    pool.stopping = false;
    pool.queued = 0;
    memset(pool.run_since, 0, sizeof(pool.run_since));
    if (pool.job_ms <= 0)
        pool.job_ms = AUTH_JOB_MS_GUESS;
    pool.nthreads = pool_threads();
    pool.idle = cfg.hash_threads_idle == 1;
    pool.slice_us = cfg.hash_slice_us;
    pool.ready = 0;
    for (int i = 0; i < pool.nthreads; i++)
        if (pthread_create(&pool.threads[i], NULL, worker_main, (void *)(intptr_t)i) != 0)
            fatal("auth: cannot start a hashing thread");
    /* Each thread lowers its own priority as it starts, at the loop's: it
     * is waited for (once, a few microseconds each), so that no hash ever
     * runs before the thread is below the loop, and what ps shows from
     * the first login on is the pool as configured. Bounded, in case a
     * loaded machine is slow to run a new thread at all. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += AUTH_START_WAIT_S;
    pthread_mutex_lock(&pool.mu);
    while (pool.ready < pool.nthreads &&
           pthread_cond_timedwait(&pool.ready_cv, &pool.mu, &until) == 0)
        ;
    if (pool.ready < pool.nthreads)
        log_warn("auth: %d of %d hashing threads started within %d s", pool.ready,
                 pool.nthreads, AUTH_START_WAIT_S);
    pthread_mutex_unlock(&pool.mu);
    pool.started = true;
}

static double estimate_ms(double *job_out);

static int submit(enum job_kind kind, const char *pw, size_t len, const char *stored,
                  auth_done_cb *cb, void *priv)
{
    if (!pool.started)
        auth_pool_start(server.base);
    /* Queued rather than refused, as long as the answer can come within the
     * bound; past it a 503 at once is better than a wait nobody sees end.
     * The estimate can still be wrong (hashes slow down when the machine
     * does), so the bound is also the job's deadline: a job no thread has
     * taken by then is answered AUTH_LATE, never hashed late. */
    double bound = cfg.login_queue_wait_ms > 0 ? (double)cfg.login_queue_wait_ms : AUTH_WAIT_MS_MAX;
    double job, wait = estimate_ms(&job);
    /* The bound is on the answer, not only on the wait: a job is admitted
     * when its wait for a thread plus its own hash fit in it, so that a
     * burst is answered within the bound, each login. A login that finds a
     * thread free is always admitted, however slow a hash is now. */
    if (pool.busy >= AUTH_QUEUE_HARD_MAX || (wait > 0 && wait + job > bound))
        return -1;
    struct job *j = xcalloc(1, sizeof(*j));
    j->kind = kind;
    j->pw = xmalloc(len + 1);
    memcpy(j->pw, pw, len);
    j->pw[len] = '\0';
    j->len = len;
    if (stored)
        snprintf(j->stored, sizeof(j->stored), "%s", stored);
    j->params = auth_params_current();
    j->cb = cb;
    j->priv = priv;
    /* Taken by a thread by then, its answer is due by the bound; never
     * less than half the bound, so that the estimate of one hash, when it
     * is high, does not make every queued job late. */
    j->deadline_ms = mono_ms() + (bound - job > bound / 2 ? bound - job : bound / 2);
    pthread_mutex_lock(&pool.mu);
    if (pool.todo_tail)
        pool.todo_tail->next = j;
    else
        pool.todo = j;
    pool.todo_tail = j;
    pool.busy++;
    pool.queued++;
    pthread_cond_signal(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    /* Re-armed for every job, not only when the timer is idle: a job whose
     * bound is shorter than those before it (the setting was lowered by a
     * reload) has the earliest deadline. */
    late_arm();
    return 0;
}

int auth_submit_hash(const char *pw, size_t len, auth_done_cb *cb, void *priv)
{
    return submit(JOB_HASH, pw, len, NULL, cb, priv);
}

int auth_submit_verify(const char *pw, size_t len, const char *stored, auth_done_cb *cb,
                       void *priv)
{
    return submit(stored ? JOB_VERIFY : JOB_DUMMY, pw, len, stored, cb, priv);
}

int auth_pool_busy(void)
{
    return pool.busy;
}

int auth_pool_running(void)
{
    int n = 0;

    pthread_mutex_lock(&pool.mu);
    for (int i = 0; i < pool.nthreads; i++)
        n += pool.run_since[i] > 0;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

/* The wait for a thread (auth_pool_wait_estimate_ms), and in *job_out
 * what one job is taken to cost now, ms. */
static double estimate_ms(double *job_out)
{
    *job_out = AUTH_JOB_MS_GUESS;
    if (!pool.started)
        return 0;
    double now = mono_ms(), left[AUTH_THREADS_MAX];
    int n = pool.nthreads > 0 ? pool.nthreads : 1;

    pthread_mutex_lock(&pool.mu);
    int queued = pool.queued;
    /* What a job takes now: the recent average, or longer when a job still
     * running has already taken longer (hashes slow down with the machine
     * well before a finished one says so). */
    double ms = pool.job_ms;
    for (int i = 0; i < n; i++)
        if (pool.run_since[i] > 0 && now - pool.run_since[i] > ms)
            ms = now - pool.run_since[i];
    for (int i = 0; i < n; i++)
        left[i] = pool.run_since[i] > 0 ? ms - (now - pool.run_since[i]) : 0;
    pthread_mutex_unlock(&pool.mu);
    *job_out = ms;

    /* The wait for a thread, not the job's own run: with a thread free and
     * nothing queued it is 0, so a lone login is never refused however slow
     * a hash is now. The queued jobs take the threads in turn, each as its
     * current job ends: the k-th job from now (the new one is k = queued)
     * starts when thread k mod n has finished what it runs and k / n whole
     * jobs after it (the threads sorted by what they have left). */
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && left[k] < left[k - 1]; k--) {
            double t = left[k];
            left[k] = left[k - 1];
            left[k - 1] = t;
        }
    double wait = left[queued % n] + (double)(queued / n) * ms;
    return wait > 0 ? wait : 0;
}

long auth_pool_wait_estimate_ms(void)
{
    double job;
    return (long)estimate_ms(&job);
}

void auth_pool_stop(void)
{
    if (!pool.started)
        return;
    pthread_mutex_lock(&pool.mu);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
    for (int i = 0; i < pool.nthreads; i++)
        pthread_join(pool.threads[i], NULL);
    deliver_done();
    struct job *j = pool.todo;
    pool.todo = pool.todo_tail = NULL;
    pool.queued = 0;
    while (j) {
        struct job *next = j->next;
        pool.busy--;
        j->cb(AUTH_STOPPED, NULL, j->priv);
        job_free(j);
        j = next;
    }
    event_free(pool.ev);
    pool.ev = NULL;
    event_free(pool.late_ev);
    pool.late_ev = NULL;
    close(pool.fds[0]);
    close(pool.fds[1]);
    pool.started = false;
    pool.nthreads = 0;
}
