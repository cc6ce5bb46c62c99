/* embed.c: the embedded store: a redis-server child on a unix socket in the
 * data dir, with AOF fsynced on every write, restarted if it dies. */
#include "campusd.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EMBED_WAIT_SECONDS 20

static struct {
    pid_t pid;
    char sock[1100], conf[1100], dir[1024];
    const struct config *cfg;
    time_t last_start;
    int restarts;
} em;

pid_t embed_pid(void)
{
    return em.pid;
}

static int write_conf(void)
{
    FILE *f = fopen(em.conf, "w");

    if (f == NULL) {
        log_error("embed: cannot write %s: %s", em.conf, strerror(errno));
        return -1;
    }
    /* No TCP port: only this campusd reaches its store. appendfsync always:
     * a reply from Redis means the write is on disk. */
    fprintf(f,
            "# Written by campusd on every start; edits are lost.\n"
            "port 0\n"
            "unixsocket %s\n"
            "unixsocketperm 700\n"
            "dir %s\n"
            "daemonize no\n"
            "appendonly yes\n"
            "appendfsync always\n"
            "appendfilename campus.aof\n"
            "dbfilename campus.rdb\n"
            "save 900 1\n"
            "loglevel warning\n"
            "logfile %s/redis.log\n",
            em.sock, em.dir, em.dir);
    return fclose(f) == 0 ? 0 : -1;
}

static int spawn(void)
{
    unlink(em.sock);
    pid_t pid = fork();
    if (pid < 0) {
        log_error("embed: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* Its own process group: a ^C at the terminal reaches campusd, which
         * then stops Redis in order, after the workers. */
        setpgid(0, 0);
        execlp(em.cfg->redis_server, em.cfg->redis_server, em.conf, (char *)NULL);
        fprintf(stderr, "campusd: cannot run %s: %s\n", em.cfg->redis_server, strerror(errno));
        _exit(127);
    }
    em.pid = pid;
    em.last_start = time(NULL);
    log_info("embed: started redis-server (pid %d) on %s", (int)pid, em.sock);
    return 0;
}

/* Waits, blocking, until the child answers PING (LOADING counts as not yet). */
static int wait_ready(void)
{
    for (int i = 0; i < EMBED_WAIT_SECONDS * 20; i++) {
        int status;
        if (waitpid(em.pid, &status, WNOHANG) == em.pid) {
            log_error("embed: redis-server exited at start (see %s/redis.log)", em.dir);
            em.pid = 0;
            return -1;
        }
        struct timeval tv = { 0, 200000 };
        redisContext *c = redisConnectUnixWithTimeout(em.sock, tv);
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            if (r)
                freeReplyObject(r);
            redisFree(c);
            if (ok)
                return 0;
        } else if (c) {
            redisFree(c);
        }
        usleep(50000);
    }
    log_error("embed: redis-server did not answer within %d s", EMBED_WAIT_SECONDS);
    return -1;
}

const char *embed_start(const struct config *c)
{
    em.cfg = c;
    if (mkdir(c->data_dir, 0700) < 0 && errno != EEXIST) {
        log_error("embed: cannot create %s: %s", c->data_dir, strerror(errno));
        return NULL;
    }
    char *abs = realpath(c->data_dir, NULL);
    if (abs == NULL) {
        log_error("embed: %s: %s", c->data_dir, strerror(errno));
        return NULL;
    }
    snprintf(em.dir, sizeof(em.dir), "%s", abs);
    free(abs);
    /* Unix socket paths are short (108 bytes): fall back to a private dir. */
    if (snprintf(em.sock, sizeof(em.sock), "%s/redis.sock", em.dir) >= 100) {
        log_error("embed: data dir path too long for a unix socket: %s", em.dir);
        return NULL;
    }
    snprintf(em.conf, sizeof(em.conf), "%s/redis.conf", em.dir);
    if (write_conf() < 0 || spawn() < 0 || wait_ready() < 0) {
        embed_stop();
        return NULL;
    }
    return em.sock;
}

bool embed_child_exited(pid_t pid, int status)
{
    if (em.pid == 0 || pid != em.pid)
        return false;
    em.pid = 0;
    if (WIFSIGNALED(status))
        log_error("embed: redis-server killed by signal %d; restarting", WTERMSIG(status));
    else
        log_error("embed: redis-server exited with %d; restarting", WEXITSTATUS(status));
    embed_restart_if_needed();
    return true;
}

/* Restarts the child unless it keeps dying: then once a second at most. The
 * store link reconnects by itself once the socket answers. */
void embed_restart_if_needed(void)
{
    if (em.pid != 0 || em.cfg == NULL)
        return;
    if (time(NULL) - em.last_start < 1 && em.restarts++ > 5) {
        log_error("embed: redis-server keeps dying; next try in a second");
        return;
    }
    if (time(NULL) - em.last_start >= 1)
        em.restarts = 0;
    spawn();
}

void embed_stop(void)
{
    if (em.pid <= 0)
        return;
    kill(em.pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        int status;
        if (waitpid(em.pid, &status, WNOHANG) == em.pid) {
            em.pid = 0;
            return;
        }
        usleep(50000);
    }
    log_warn("embed: redis-server did not stop in 5 s; killing it");
    kill(em.pid, SIGKILL);
    waitpid(em.pid, NULL, 0);
    em.pid = 0;
}

void embed_forget(void)
{
    em.pid = 0;
    em.cfg = NULL;
}
