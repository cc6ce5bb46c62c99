/* config.c: one typed table gives the config file, the flags, bounds,
 * defaults and --help. Flags override the file. */
#include "campusd.h"
#include "auth.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config cfg;

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL };

struct option_def {
    const char *key;             /* in the file; the flag is --key with - for _ */
    enum opt_type type;
    size_t offset;
    const char *def;             /* default, as text; NULL: unset */
    long min, max;
    const char *help;
};

#define S(k, f, d, h) { k, OPT_STR, offsetof(struct config, f), d, 0, 0, h }
#define I(k, f, d, lo, hi, h) { k, OPT_INT, offsetof(struct config, f), d, lo, hi, h }
#define B(k, f, d, h) { k, OPT_BOOL, offsetof(struct config, f), d, 0, 1, h }

static const struct option_def options[] = {
    S("bind", bind, "127.0.0.1", "address to listen on"),
    I("text_port", text_port, "7070", 0, 65535, "CTP/1 text protocol port (0: off)"),
    I("tls_port", tls_port, "7071", 0, 65535, "CTP/1 over TLS from the first byte (0: off)"),
    I("http_port", http_port, "8080", 0, 65535, "HTTP API and web client port (0: off)"),
    S("courses", courses_dir, "courses", "courses directory"),
    S("data", data_dir, "var", "data directory (embedded Redis, TLS certificate)"),
    S("web", web_dir, "clients/web", "static files of the web client"),
    S("redis", redis, NULL, "Redis address host:port or /path.sock (default: embedded)"),
    S("redis_server", redis_server, "redis-server", "redis-server binary for the embedded store"),
    S("tls_cert", tls_cert, NULL, "TLS certificate, PEM (default: self-signed in the data dir)"),
    S("tls_key", tls_key, NULL, "TLS private key, PEM"),
    I("tls_session_lifetime", tls_session_lifetime, "86400", 0, 604800,
      "seconds a TLS 1.3 session ticket lets a client resume without a full handshake (0: no tickets)"),
    I("hello_tls_port", hello_tls_port, "-1", -1, 65535,
      "the TLS port HELLO names for clients to use next time (-1: tls_port; 0: none)"),
    I("workers", workers, "1", 1, 64, "worker processes sharing the listening sockets"),
    S("log_level", log_level, "info", "debug, info, warn or error"),
    I("line_max", line_max, "8192", 64, 1048576, "longest request line, bytes"),
    I("literal_max", literal_max, "1048576", 0, 268435456, "largest {N} literal, bytes"),
    I("inflight_max", inflight_max, "128", 1, 100000, "requests queued per connection before reading pauses"),
    I("idle_timeout", idle_timeout, "300", 1, 86400, "seconds an idle connection is kept"),
    I("request_timeout", request_timeout, "30", 1, 3600, "seconds to complete a begun request"),
    I("max_conns", max_conns, "10000", 1, 1000000, "connections per process"),
    I("max_conns_per_addr", max_conns_per_addr, "256", 1, 1000000, "connections per client address"),
    I("output_max", output_max, "16777216", 65536, 1073741824, "bytes buffered for a slow reader before closing"),
    I("reqs_per_event", reqs_per_event, "32", 1, 100000, "requests handled per wake-up before yielding"),
    S("sentinel", sentinel, NULL, "Redis Sentinels host:port,host:port,...: ask them for the primary (instead of redis)"),
    S("sentinel_master", sentinel_master, "campus", "the name the Sentinels monitor the primary under"),
    I("store_wait_replicas", store_wait_replicas, "-1", -1, 16,
      "replicas that must confirm a grade or completion (WAIT) before it is acknowledged; -1: 1 with sentinel, else 0"),
    I("store_wait_ms", store_wait_ms, "500", 1, 60000, "how long WAIT waits for the replicas, ms"),
    S("proxy_protocol", proxy_protocol, NULL, "listeners that take a PROXY protocol v2 header: text,tls,http"),
    S("proxy_from", proxy_from, NULL, "balancer addresses whose PROXY v2 header is trusted: a.b.c.d[/n],..."),
    I("store_timeout_ms", store_timeout_ms, "1500", 10, 600000, "bound on every Redis command, ms"),
    B("store_allow_no_aof", store_allow_no_aof, "no",
      "yes: accept writes on a Redis with AOF off (a restart may lose them)"),
    I("shutdown_timeout", shutdown_timeout, "10", 0, 3600, "seconds to finish in-flight work on SIGTERM"),
    I("http_header_max", http_header_max, "16384", 1024, 1048576, "largest HTTP header block, bytes"),
    I("http_body_max", http_body_max, "1048576", 0, 268435456, "largest HTTP request body, bytes"),
    I("http_timeout", http_timeout, "30", 1, 3600, "seconds an HTTP connection may idle, and a request has from its first byte"),
    I("http_rate", http_rate, "0", 0, 1000000, "HTTP requests per second per client address (0: off)"),
    I("http_rate_burst", http_rate_burst, "100", 1, 1000000, "HTTP requests a client address may send at once"),
    I("http_max_conns", http_max_conns, "10000", 1, 1000000, "HTTP connections per process, counted from accept"),
    I("open_registration", open_registration, "1", 0, 1, "1: anyone may REGISTER an account; 0: only admins add them"),
    I("session_idle", session_idle, "604800", 1, 31536000, "seconds a session stays valid unused"),
    I("session_max_age", session_max_age, "2592000", 1, 31536000, "seconds a session stays valid at most"),
    I("login_fail_max", login_fail_max, "5", 1, 1000000, "failed logins per account per window before 429"),
    I("login_fail_addr_max", login_fail_addr_max, "50", 1, 1000000, "failed logins per client address per window before 429"),
    I("login_fail_window", login_fail_window, "900", 1, 86400, "seconds over which failed logins count"),
    S("password_hash", password_hash, "argon2id", "algorithm of new password hashes: argon2id or scrypt (scrypt hashes are upgraded at login when argon2id)"),
    I("argon2_m", argon2_m, "19456", AUTH_ARGON2_M_MIN, AUTH_ARGON2_M_MAX, "Argon2id memory of new password hashes, KiB"),
    I("argon2_t", argon2_t, "2", AUTH_ARGON2_T_MIN, AUTH_ARGON2_T_MAX, "Argon2id passes of new password hashes"),
    I("argon2_p", argon2_p, "1", AUTH_ARGON2_P_MIN, AUTH_ARGON2_P_MAX, "Argon2id lanes of new password hashes"),
    I("login_queue_wait_ms", login_queue_wait_ms, "9000", AUTH_WAIT_MS_MIN, AUTH_WAIT_MS_MAX,
      "longest a login waits for its password hash, the hash included; one expected past it, or not started in time, gets 503"),
    I("hash_threads", hash_threads, "0", 0, AUTH_THREADS_MAX,
      "password hashing threads; 0: one fewer than the cores, at least one"),
    I("hash_threads_idle", hash_threads_idle, "0", 0, 1,
      "1: password hashing threads run under SCHED_IDLE (only on cores nothing else wants); 0: at nice 19"),
    I("hash_slice_us", hash_slice_us, "100", 0, AUTH_SLICE_US_MAX,
      "time slice of a password hashing thread, microseconds (Linux 6.12 and later; under 100 counts as 100; 0: the kernel's)"),
    I("scrypt_ln", scrypt_ln, "15", AUTH_LN_MIN, AUTH_LN_MAX, "scrypt cost of new password hashes: N = 2^ln"),
    I("scrypt_r", scrypt_r, "8", AUTH_R_MIN, AUTH_R_MAX, "scrypt block size r of new password hashes"),
    I("scrypt_p", scrypt_p, "3", AUTH_P_MIN, AUTH_P_MAX, "scrypt parallelism p of new password hashes"),
    I("answer_max", answer_max, "65536", 256, 1048576, "bytes of one whole SUBMIT answer document (413 past it)"),
    I("task_answer_max", task_answer_max, "8192", 16, 1048576, "bytes of one task's answer, unless the task sets max_bytes (413 past it)"),
    I("attempts_max", attempts_max, "100", 1, 100000, "attempts stored per exercise that sets no limit (attempts: 0)"),
    I("submit_window", submit_window, "86400", 1, 2592000, "seconds a SUBMIT retried with the same key or answer returns the stored attempt"),
    I("review_repair_interval", review_repair_interval, "60", 1, 86400, "seconds between passes that queue reviews a failed write left unqueued"),
    S("base_url", base_url, "http://localhost:8080", "public address of the web client (xAPI activity IRIs)"),
    I("cohort_join_fail_max", cohort_join_fail_max, "10", 1, 1000000, "wrong enrolment codes per account per window before 429"),
    I("cohort_join_fail_window", cohort_join_fail_window, "900", 1, 86400, "seconds over which wrong enrolment codes count"),
    I("cert_valid_days", cert_valid_days, "0", 0, 36500, "days a new certificate is valid (0: it does not expire)"),
    I("live_output_max", live_output_max, "262144", 4096, 1073741824,
      "bytes waiting for a slow live reader past which pushes are dropped (then one RESYNC)"),
    I("live_sse_max_age", live_sse_max_age, "3600", 1, 86400,
      "seconds an event stream lives before the server ends it (the browser resumes it)"),
    S("test_clock", test_clock, NULL, "test builds only: a file holding the time in ms that cohorts are paced by"),
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const struct option_def *find(const char *key)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (strcmp(options[i].key, key) == 0)
            return &options[i];
    return NULL;
}

int config_set(struct config *c, const char *key, const char *value, char *err, size_t errlen)
{
    const struct option_def *o = find(key);

    if (o == NULL) {
        snprintf(err, errlen, "unknown setting '%s'", key);
        return -1;
    }
    char *base = (char *)c + o->offset;
    if (o->type == OPT_STR) {
        char **slot = (char **)base;
        if (strcmp(key, "password_hash") == 0 &&
            (value == NULL || (strcmp(value, "argon2id") != 0 && strcmp(value, "scrypt") != 0))) {
            snprintf(err, errlen, "password_hash: '%s' is not argon2id or scrypt", value ? value : "");
            return -1;
        }
        if (strcmp(key, "redis") == 0 && value && value[0] != '/' &&
            arg_addr_port(value, 6379) < 0) {
            snprintf(err, errlen, "redis: '%s' is not host:port (port 1 to 65535) or /path.sock",
                     value);
            return -1;
        }
        if (strcmp(key, "sentinel") == 0 && value && sentinel_parse_list(value, NULL, 0) < 0) {
            snprintf(err, errlen, "sentinel: '%s' is not host:port,host:port,... (at most %d)",
                     value, SENTINEL_MAX);
            return -1;
        }
        if (strcmp(key, "proxy_protocol") == 0 && value && proxy_listeners_parse(value) < 0) {
            snprintf(err, errlen, "proxy_protocol: '%s' is not a list of text, tls, http", value);
            return -1;
        }
        if (strcmp(key, "proxy_from") == 0 && value && proxy_from_parse(value, NULL, 0) < 0) {
            snprintf(err, errlen, "proxy_from: '%s' is not a list of addresses a.b.c.d[/n] or IPv6[/n]",
                     value);
            return -1;
        }
        free(*slot);
        *slot = value ? xstrdup(value) : NULL;
        return 0;
    }
    if (o->type == OPT_BOOL) {
        static const char *const yes[] = { "yes", "on", "true", "1" }, *const no[] = { "no", "off", "false", "0" };
        for (size_t i = 0; i < 4; i++)
            if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
                *(long *)base = strcasecmp(value, yes[i]) == 0;
                return 0;
            }
        snprintf(err, errlen, "%s: '%s' is not yes or no", key, value);
        return -1;
    }
    /* The same strict reading as every verb's numbers: "+80", " 80" and
     * "0x50" are mistakes, not 80. */
    long long v;
    if (value == NULL || arg_parse_ll(value, strlen(value), LONG_MIN, LONG_MAX, &v) < 0) {
        snprintf(err, errlen, "%s: '%s' is not a whole number", key, value ? value : "");
        return -1;
    }
    if (v < o->min || v > o->max) {
        snprintf(err, errlen, "%s: %lld is out of range %ld..%ld", key, v, o->min, o->max);
        return -1;
    }
    *(long *)base = (long)v;
    return 0;
}

void config_defaults(struct config *c)
{
    char err[128];

    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].def && config_set(c, options[i].key, options[i].def, err, sizeof(err)) < 0)
            fatal("bad default: %s", err);
}

void config_free(struct config *c)
{
    for (size_t i = 0; i < NOPTIONS; i++)
        if (options[i].type == OPT_STR) {
            char **slot = (char **)((char *)c + options[i].offset);
            free(*slot);
            *slot = NULL;
        }
}

int config_load_file(struct config *c, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[4096], err[256];
    int lineno = 0, rc = 0;

    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *p = line, *key, *value;
        line[strcspn(line, "\r\n")] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        key = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (*p)
            *p++ = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        value = p;
        for (char *e = value + strlen(value); e > value && (e[-1] == ' ' || e[-1] == '\t');)
            *--e = '\0';
        if (*value == '\0') {
            fprintf(stderr, "%s:%d: '%s' has no value\n", path, lineno, key);
            rc = -1;
            continue;
        }
        if (config_set(c, key, value, err, sizeof(err)) < 0) {
            fprintf(stderr, "%s:%d: %s\n", path, lineno, err);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: campusd [options]\n"
            "       campusd --check DIR        check a courses directory and exit\n"
            "       campusd --check-config     check the configuration and exit\n"
            "       campusd --add-user NAME [--role learner|trainer|admin]\n"
            "                                  add an account; the password is read from stdin\n"
            "\n"
            "  --config FILE                   read settings from FILE (key value lines)\n"
            "  --help, --version\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        char flag[64];
        snprintf(flag, sizeof(flag), "--%s", options[i].key);
        for (char *p = flag; *p; p++)
            if (*p == '_')
                *p = '-';
        fprintf(out, "  %-31s %s", flag, options[i].help);
        if (options[i].def)
            fprintf(out, " [%s]", options[i].def);
        fputc('\n', out);
    }
}

int config_parse_args(struct config *c, int argc, char **argv, int *check_config,
                      const char **check_courses)
{
    char err[256];

    /* The file first, so flags override it wherever they stand. */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "campusd: --config needs a file\n");
                return -1;
            }
            if (config_load_file(c, argv[i + 1]) < 0)
                return -1;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strcmp(a, "--version") == 0) {
            printf("campusd %s\n", CAMPUS_VERSION);
            exit(0);
        }
        if (strcmp(a, "--check-config") == 0) {
            *check_config = 1;
            continue;
        }
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            fprintf(stderr, "campusd: unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
        char key[64];
        const char *eq = strchr(a + 2, '=');
        size_t klen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (klen >= sizeof(key)) {
            fprintf(stderr, "campusd: unknown option '%s'\n", a);
            return -1;
        }
        memcpy(key, a + 2, klen);
        key[klen] = '\0';
        for (char *p = key; *p; p++)
            if (*p == '-')
                *p = '_';
        const char *value = eq ? eq + 1 : NULL;
        if (value == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "campusd: %s needs a value\n", a);
                return -1;
            }
            value = argv[++i];
        }
        if (strcmp(key, "check") == 0) {
            *check_courses = value;
            continue;
        }
        if (config_set(c, key, value, err, sizeof(err)) < 0) {
            fprintf(stderr, "campusd: %s\n", err);
            return -1;
        }
    }
    return 0;
}

void config_print(const struct config *c, FILE *out)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const char *base = (const char *)c + options[i].offset;
        if (options[i].type == OPT_STR) {
            const char *v = *(char *const *)base;
            fprintf(out, "%s %s\n", options[i].key, v ? v : "(unset)");
        } else if (options[i].type == OPT_BOOL) {
            fprintf(out, "%s %s\n", options[i].key, *(const long *)base ? "yes" : "no");
        } else {
            fprintf(out, "%s %ld\n", options[i].key, *(const long *)base);
        }
    }
}
