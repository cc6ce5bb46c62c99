/* embed.c: the embedded store: a redis-server child on a unix socket in the
 * data dir, with AOF fsynced on every write, restarted if it dies, dying
 * with the campusd that started it, and one per data dir (a lock file). */
#include "campusd.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EMBED_WAIT_SECONDS 20
/* A campusd killed a moment ago may leave a redis-server that has not yet
 * taken its parent's death signal and still holds the lock. */
#define EMBED_LOCK_WAIT_SECONDS 10
/* A redis-server left running without its campusd gets this long to stop. */
#define EMBED_ORPHAN_WAIT_SECONDS 10

static struct {
    pid_t pid;
    char sock[1100], conf[1100], dir[1024], lock[1100];
    int lock_fd;                 /* -1, or the flock'd DATA/redis.lock */
    const struct config *cfg;
    time_t last_start;
    int restarts;
} em = { .lock_fd = -1 };

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

/* Takes DATA/redis.lock, or says who holds it. The lock is held by the
 * campusd that supervises the data dir's redis-server (the master with
 * --workers) and by that redis-server itself, which inherits the descriptor:
 * so it is free only once neither runs, and a second store on the same AOF
 * files can never start. */
static int take_lock(void)
{
    em.lock_fd = open(em.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (em.lock_fd < 0) {
        log_error("embed: cannot open %s: %s", em.lock, strerror(errno));
        return -1;
    }
    bool said = false;
    for (int i = 0; i < EMBED_LOCK_WAIT_SECONDS * 10; i++) {
        if (flock(em.lock_fd, LOCK_EX | LOCK_NB) == 0) {
            char pid[24];
            int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
            if (ftruncate(em.lock_fd, 0) < 0 || pwrite(em.lock_fd, pid, (size_t)n, 0) != n)
                log_warn("embed: cannot write %s: %s", em.lock, strerror(errno));
            return 0;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            log_error("embed: cannot lock %s: %s", em.lock, strerror(errno));
            break;
        }
        char holder[24] = "";
        ssize_t n = pread(em.lock_fd, holder, sizeof(holder) - 1, 0);
        holder[n > 0 ? n : 0] = '\0';
        holder[strcspn(holder, "\r\n")] = '\0';
        pid_t hp = (pid_t)atoi(holder);
        if (hp > 0 && (kill(hp, 0) == 0 || errno == EPERM)) {
            /* A live campusd supervises this data dir: no point waiting. */
            log_error("embed: data dir %s is in use by campusd pid %d (it holds %s); "
                      "not starting a second redis-server on it", em.dir, (int)hp, em.lock);
            goto refuse;
        }
        if (!said) {
            log_warn("embed: %s is held by the redis-server of a campusd that is gone "
                     "(pid %s); waiting up to %d s for it to stop", em.lock,
                     holder[0] ? holder : "?", EMBED_LOCK_WAIT_SECONDS);
            said = true;
        }
        usleep(100000);
    }
    if (said)
        log_error("embed: data dir %s is still locked after %d s; not starting a second "
                  "redis-server on it", em.dir, EMBED_LOCK_WAIT_SECONDS);
refuse:
    close(em.lock_fd);
    em.lock_fd = -1;
    return -1;
}

static void release_lock(void)
{
    if (em.lock_fd >= 0) {
        close(em.lock_fd);
        em.lock_fd = -1;
    }
}

/* The parent pid of pid from /proc, or 0. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
    char *close_paren = strrchr(buf, ')');
    int ppid = 0;
    if (close_paren == NULL || sscanf(close_paren + 1, " %*c %d", &ppid) != 1)
        return 0;
    return (pid_t)ppid;
}

static bool is_campusd(pid_t pid)
{
    char path[64], comm[64] = "";
    snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    if (fgets(comm, sizeof(comm), f) == NULL)
        comm[0] = '\0';
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    return strcmp(comm, "campusd") == 0;
}

static redisContext *connect_sock(void)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectUnixWithTimeout(em.sock, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

/* With the lock held: a redis-server that still answers on the socket was
 * left by a campusd without the lock (an older version, or one started by
 * hand). Stops it (SHUTDOWN, so it writes what it holds) unless a campusd
 * still supervises it. Returns 0 when the socket is free. */
static int stop_orphan(void)
{
    redisContext *c = connect_sock();
    if (c == NULL)
        return 0;                                /* nothing listens: a stale socket */
    long opid = 0;
    redisReply *r = redisCommand(c, "INFO server");
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "process_id:");
        if (p)
            opid = atol(p + strlen("process_id:"));
    }
    if (r)
        freeReplyObject(r);
    pid_t parent = opid > 0 ? parent_of((pid_t)opid) : 0;
    if (parent > 1 && is_campusd(parent)) {
        log_error("embed: redis-server pid %ld on %s is supervised by campusd pid %d "
                  "(one without the data dir lock); not starting a second one",
                  opid, em.sock, (int)parent);
        redisFree(c);
        return -1;
    }
    log_warn("embed: a redis-server (pid %ld) left running without its campusd answers on "
             "%s; stopping it (SHUTDOWN) and starting our own on the same data", opid, em.sock);
    r = redisCommand(c, "SHUTDOWN");
    /* A SHUTDOWN that works closes the link without a reply. */
    if (r && r->type == REDIS_REPLY_ERROR) {
        log_error("embed: the redis-server on %s refuses SHUTDOWN: %s; stop it by hand",
                  em.sock, r->str);
        freeReplyObject(r);
        redisFree(c);
        return -1;
    }
    if (r)
        freeReplyObject(r);
    redisFree(c);
    for (int i = 0; i < EMBED_ORPHAN_WAIT_SECONDS * 10; i++) {
        if ((c = connect_sock()) == NULL) {
            log_info("embed: the old redis-server on %s has stopped", em.sock);
            return 0;
        }
        redisFree(c);
        usleep(100000);
    }
    log_error("embed: the redis-server on %s did not stop within %d s; stop it by hand",
              em.sock, EMBED_ORPHAN_WAIT_SECONDS);
    return -1;
}

static int spawn(void)
{
    pid_t parent = getpid();

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
        /* Dies with campusd, however campusd dies. SIGKILL, not SIGTERM:
         * a Redis whose shutdown save fails (disk full, dir gone) ignores
         * SIGTERM and would keep the lock forever, and with appendfsync
         * always every acknowledged write is in the AOF already. The death
         * signal follows the thread that forked: spawn runs on the main
         * thread only. If campusd died before the prctl, our parent is
         * already someone else. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
            _exit(1);
        /* Redis keeps the data dir lock while it lives, even after campusd. */
        if (em.lock_fd >= 0)
            fcntl(em.lock_fd, F_SETFD, 0);
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
    snprintf(em.lock, sizeof(em.lock), "%s/redis.lock", em.dir);
    if (take_lock() < 0)
        return NULL;
    if (stop_orphan() < 0) {
        release_lock();
        return NULL;
    }
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

/* Stops the child, then lets go of the lock: only once Redis is gone may
 * another campusd start one on the data dir. */
void embed_stop(void)
{
    if (em.pid <= 0) {
        release_lock();
        return;
    }
    kill(em.pid, SIGTERM);
    for (int i = 0; i < 100; i++) {
        int status;
        if (waitpid(em.pid, &status, WNOHANG) == em.pid) {
            em.pid = 0;
            release_lock();
            return;
        }
        usleep(50000);
    }
    log_warn("embed: redis-server did not stop in 5 s; killing it");
    kill(em.pid, SIGKILL);
    waitpid(em.pid, NULL, 0);
    em.pid = 0;
    release_lock();
}

/* The worker's copy of the lock descriptor is closed; the master's (and
 * Redis's) keep the lock, so a worker that outlives its master never
 * holds the data dir. */
void embed_forget(void)
{
    em.pid = 0;
    em.cfg = NULL;
    release_lock();
}
