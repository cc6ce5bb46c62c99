/* main.c: campusd's entry: configuration, the embedded store, and either one
 * worker in this process or a master that supervises N forked workers. */
#include "campusd.h"
#include "cert.h"
#include "cohort-time.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"


static pid_t *workers;
static long nworkers;
static volatile sig_atomic_t got_term, got_hup, got_chld;
static sigset_t unblocked;        /* the mask before the master blocked its signals */

static void on_signal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT)
        got_term = 1;
    else if (sig == SIGHUP)
        got_hup = 1;
    else if (sig == SIGCHLD)
        got_chld = 1;
}

static pid_t spawn_worker(long id, SSL_CTX *ctx)
{
    pid_t master = getpid();
    pid_t pid = fork();

    if (pid < 0) {
        log_error("fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGCHLD, SIG_DFL);
        sigprocmask(SIG_SETMASK, &unblocked, NULL);
        /* A worker whose master is killed finishes what it has and goes,
         * rather than keeping the ports with nobody to supervise it. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != master)
            _exit(1);
        embed_forget();
        int rc = server_run((int)id, ctx);
        courses_free();
        SSL_CTX_free(ctx);
        config_free(&cfg);
        _exit(rc);
    }
    return pid;
}

/* The master: forks the workers, restarts any that die, restarts the
 * embedded Redis, and on SIGTERM passes it on and waits for everyone. */
static int supervise(SSL_CTX *ctx)
{
    struct sigaction sa = { .sa_handler = on_signal };
    sigset_t block;

    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &unblocked);

    workers = xcalloc((size_t)cfg.workers, sizeof(pid_t));
    nworkers = cfg.workers;
    for (long i = 0; i < nworkers; i++)
        workers[i] = spawn_worker(i, ctx);
    log_info("master: %ld workers", nworkers);

    while (!got_term) {
        sigsuspend(&unblocked);
        if (got_hup) {
            got_hup = 0;
            for (long i = 0; i < nworkers; i++)
                if (workers[i] > 0)
                    kill(workers[i], SIGHUP);
        }
        if (got_chld) {
            got_chld = 0;
            int status;
            pid_t pid;
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (embed_child_exited(pid, status))
                    continue;
                for (long i = 0; i < nworkers; i++)
                    if (workers[i] == pid && !got_term) {
                        log_error("master: worker %ld (pid %d) died; restarting", i, (int)pid);
                        sleep(1);
                        workers[i] = spawn_worker(i, ctx);
                    }
            }
        }
        embed_restart_if_needed();
    }
    log_info("master: stopping workers");
    for (long i = 0; i < nworkers; i++)
        if (workers[i] > 0)
            kill(workers[i], SIGTERM);
    int rc = 0;
    for (long i = 0; i < nworkers; i++) {
        int status;
        /* A worker forked just before the stop may get our SIGTERM before
         * it has its handlers: ended by that signal, it had nothing to drain. */
        if (workers[i] > 0 && waitpid(workers[i], &status, 0) == workers[i] &&
            !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
            !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM))
            rc = 1;
    }
    free(workers);
    sigprocmask(SIG_SETMASK, &unblocked, NULL);
    return rc;
}

static int check_config(void)
{
    struct stat sb;
    int rc = 0;

    config_print(&cfg, stdout);
    if (stat(cfg.courses_dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "courses: %s is not a directory\n", cfg.courses_dir);
        rc = 1;
    }
    if (cfg.tls_cert && access(cfg.tls_cert, R_OK) < 0) {
        fprintf(stderr, "tls_cert: %s: %s\n", cfg.tls_cert, strerror(errno));
        rc = 1;
    }
    if (cfg.tls_key && access(cfg.tls_key, R_OK) < 0) {
        fprintf(stderr, "tls_key: %s: %s\n", cfg.tls_key, strerror(errno));
        rc = 1;
    }
    if (cfg.text_port && (cfg.text_port == cfg.tls_port || cfg.text_port == cfg.http_port)) {
        fprintf(stderr, "ports: text_port must differ from tls_port and http_port\n");
        rc = 1;
    }
    printf("%s\n", rc ? "configuration has errors" : "configuration ok");
    return rc;
}

/* Takes --add-user NAME, --role ROLE and --rotate-issuer-key out of argv
 * (they are not settings).
 * Returns the new argc. */
static int take_add_user(int argc, char **argv, const char **user, const char **role,
                         bool *rotate)
{
    int n = 0;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--rotate-issuer-key") == 0) {
            *rotate = true;
            continue;
        }
        if (i + 1 < argc && strcmp(argv[i], "--add-user") == 0) {
            *user = argv[++i];
            continue;
        }
        if (i + 1 < argc && strcmp(argv[i], "--role") == 0) {
            *role = argv[++i];
            continue;
        }
        argv[n++] = argv[i];
    }
    argv[n] = NULL;
    return n;
}

int main(int argc, char **argv)
{
    const char *add_user = NULL, *add_role = NULL;
    bool rotate = false;
    argc = take_add_user(argc, argv, &add_user, &add_role, &rotate);
    int want_check_config = 0;
    const char *check_dir = NULL;

    config_defaults(&cfg);
    if (config_parse_args(&cfg, argc, argv, &want_check_config, &check_dir) < 0) {
        config_free(&cfg);
        return 2;
    }
    log_set_level(cfg.log_level);
    if (cfg.proxy_protocol && proxy_listeners_parse(cfg.proxy_protocol) > 0 && !cfg.proxy_from) {
        fprintf(stderr, "campusd: proxy_protocol needs proxy_from (the balancers whose "
                        "PROXY headers are trusted)\n");
        config_free(&cfg);
        return 2;
    }
    if (cohort_time_check_config() < 0) {
        config_free(&cfg);
        return 2;
    }
    cmd_init();
    /* Literals, answers and lesson renderings of tens of KiB come and go all
     * the time; keep glibc from giving the heap back and taking it again. */
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    if (check_dir) {
        int rc = content_check_exit(check_dir, stdout);
        config_free(&cfg);
        return rc;
    }
    if (want_check_config) {
        int rc = check_config();
        config_free(&cfg);
        return rc;
    }
    if (add_user || add_role) {
        int rc = add_user ? adduser_main(add_user, add_role ? add_role : "learner") : 2;
        if (!add_user)
            fprintf(stderr, "campusd: --role goes with --add-user NAME\n");
        config_free(&cfg);
        return rc;
    }
    if (rotate) {
        int rc = mkdir(cfg.data_dir, 0700) < 0 && errno != EEXIST ? 1
                 : cert_rotate_key(cfg.data_dir) < 0 ? 1 : 0;
        config_free(&cfg);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);

    /* Loaded once here, so forked workers share it until they reload. */
    if (courses_reload() < 0) {
        config_free(&cfg);
        return 1;
    }

    if (mkdir(cfg.data_dir, 0700) < 0 && errno != EEXIST) {
        log_error("data dir %s: %s", cfg.data_dir, strerror(errno));
        return 1;
    }
    /* Before the workers fork: each signs with the same key. */
    if (cert_keys_load(cfg.data_dir) < 0) {
        config_free(&cfg);
        return 1;
    }
    if (cfg.redis == NULL && cfg.sentinel == NULL) {
        const char *sock = embed_start(&cfg);
        if (sock == NULL) {
            config_free(&cfg);
            return 1;
        }
        cfg.redis = xstrdup(sock);
    }
    SSL_CTX *ctx = NULL;
    if (cfg.tls_port || cfg.text_port) {
        ctx = tls_context(&cfg);
        if (ctx == NULL)
            log_warn("tls: no usable certificate; the TLS port and STARTTLS are off");
    }

    stats_share(cfg.workers);
    int rc = cfg.workers == 1 ? server_run(0, ctx) : supervise(ctx);
    embed_stop();
    courses_free();
    cert_keys_free();
    if (ctx)
        SSL_CTX_free(ctx);
    config_free(&cfg);
    return rc;
}
