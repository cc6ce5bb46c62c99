/* adduser.c: `campusd --add-user NAME --role ROLE`: creates an account with
 * the password read from standard input, so an operator can make the first
 * admin. Talks to the configured Redis, the running embedded one, or starts
 * the embedded one for the time it takes. */
#include "campusd.h"

#include "auth.h"
#include "keys.h"
#include "scripts.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line (the password) from stdin without its line end, echo off
 * on a terminal. Returns its length, or -1 on EOF or when it is too long. */
static long read_password(char *buf, size_t n)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;

    if (tty) {
        fputs("password: ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    size_t len = 0;
    int c;
    bool over = false;
    while ((c = getchar()) != EOF && c != '\n') {
        if (len + 1 < n)
            buf[len++] = (char)c;
        else
            over = true;
    }
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    if (over || (c == EOF && len == 0))
        return -1;
    return (long)len;
}

static redisContext *connect_store(bool *started)
{
    struct timeval tv = { 5, 0 };
    char sock[1100];
    redisContext *rc;

    *started = false;
    if (cfg.redis) {
        const char *colon = strrchr(cfg.redis, ':');
        if (cfg.redis[0] == '/')
            return redisConnectUnixWithTimeout(cfg.redis, tv);
        char host[256];
        size_t hn = colon ? (size_t)(colon - cfg.redis) : strlen(cfg.redis);
        snprintf(host, sizeof(host), "%.*s", (int)(hn < 255 ? hn : 255), cfg.redis);
        return redisConnectWithTimeout(host, arg_addr_port(cfg.redis, 6379), tv);
    }
    /* A running campusd's embedded store answers on its socket. */
    snprintf(sock, sizeof(sock), "%s/redis.sock", cfg.data_dir);
    rc = redisConnectUnixWithTimeout(sock, tv);
    if (rc && !rc->err) {
        redisReply *r = redisCommand(rc, "PING");
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (ok)
            return rc;
    }
    if (rc)
        redisFree(rc);
    const char *path = embed_start(&cfg);
    if (path == NULL)
        return NULL;
    *started = true;
    return redisConnectUnixWithTimeout(path, tv);
}

int adduser_main(const char *name, const char *role)
{
    char pw[AUTH_PASSWORD_MAX + 2], hash[AUTH_HASH_MAX];
    char k1[KEY_MAX], k2[KEY_MAX], created[24], maxlen[16];

    if (!auth_name_valid(name, strlen(name))) {
        fprintf(stderr, "campusd: a name is 3 to 32 of a-z, 0-9, '.', '_' and '-'\n");
        return 2;
    }
    if (strcmp(role, "learner") != 0 && strcmp(role, "trainer") != 0 &&
        strcmp(role, "admin") != 0) {
        fprintf(stderr, "campusd: --role is learner, trainer or admin\n");
        return 2;
    }
    long len = read_password(pw, sizeof(pw));
    const char *problem = len < 0 ? "no password on standard input (or over 1024 bytes)"
                                  : auth_password_problem(pw, (size_t)len);
    if (problem) {
        fprintf(stderr, "campusd: %s\n", problem);
        explicit_bzero(pw, sizeof(pw));
        return 2;
    }
    if (key_fmt(k1, sizeof(k1), KEY_ACCOUNT, name) < 0 ||
        key_fmt(k2, sizeof(k2), KEY_EVENTS, name) < 0) {
        explicit_bzero(pw, sizeof(pw));
        return 1;
    }
    struct auth_params p = auth_params_current();
    int hrc = auth_hash_password(pw, (size_t)len, &p, hash);
    explicit_bzero(pw, sizeof(pw));
    if (hrc < 0) {
        fprintf(stderr, "campusd: cannot hash the password\n");
        return 1;
    }

    bool started;
    redisContext *rc = connect_store(&started);
    if (rc == NULL || rc->err) {
        fprintf(stderr, "campusd: cannot reach the store: %s\n", rc ? rc->errstr : "no Redis");
        if (rc)
            redisFree(rc);
        if (started)
            embed_stop();
        return 1;
    }
    snprintf(created, sizeof(created), "%lld", now_wall_ms() / 1000);
    snprintf(maxlen, sizeof(maxlen), "%d", KEYS_EVENTS_MAX);
    const char *argv[] = { "EVAL", script_source(SCRIPT_REGISTER), "2", k1, k2, role, hash,
                           created, maxlen };
    redisReply *r = redisCommandArgv(rc, 9, argv, NULL);
    int status;
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "campusd: the store refused: %s\n", r ? r->str : rc->errstr);
        status = 1;
    } else if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
        fprintf(stderr, "campusd: the name '%s' is taken\n", name);
        status = 1;
    } else {
        const char *zargv[] = { "ZADD", KEY_USERS, created, name };
        redisReply *z = redisCommandArgv(rc, 4, zargv, NULL);
        status = z && z->type != REDIS_REPLY_ERROR ? 0 : 1;
        freeReplyObject(z);
        if (status == 0)
            printf("added %s as %s\n", name, role);
        else
            fprintf(stderr, "campusd: account made, but not listed: %s\n", rc->errstr);
    }
    freeReplyObject(r);
    redisFree(rc);
    if (started)
        embed_stop();
    return status;
}
