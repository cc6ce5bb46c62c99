/* prompt.c: questions to the person at the terminal: a line, or a password
 * read without echo. */
#include "campus.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line from f without its line end (LF or CRLF); NULL at EOF. */
char *prompt_read_line(FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, f);

    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

char *prompt_line(const char *prompt)
{
    FILE *out = render_tty() ? stdout : stderr;
    fputs(prompt, out);
    fflush(out);
    return prompt_read_line(stdin);
}

static struct termios saved_tio;
static int saved_fd = -1;

static void restore_echo(int sig)
{
    if (saved_fd >= 0)
        tcsetattr(saved_fd, TCSAFLUSH, &saved_tio);
    signal(sig, SIG_DFL);
    raise(sig);
}

char *prompt_password(const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    struct termios tio;

    if (fd < 0 || tcgetattr(fd, &tio) < 0) {
        if (fd >= 0)
            close(fd);
        return prompt_read_line(stdin);     /* no terminal: the password is a line of stdin */
    }
    FILE *f = fdopen(fd, "r+");
    if (f == NULL) {
        close(fd);
        return NULL;
    }
    saved_tio = tio;
    saved_fd = fd;
    void (*old_int)(int) = signal(SIGINT, restore_echo);
    void (*old_term)(int) = signal(SIGTERM, restore_echo);
    tio.c_lflag &= ~(tcflag_t)ECHO;
    tio.c_lflag |= ECHONL;
    /* Echo goes off before the prompt shows, and typed-ahead input is kept:
     * whoever answers the prompt at once is neither echoed nor lost. */
    tcsetattr(fd, TCSANOW, &tio);
    fputs(prompt, f);
    fflush(f);
    char *pw = prompt_read_line(f);
    tcsetattr(fd, TCSAFLUSH, &saved_tio);
    saved_fd = -1;
    signal(SIGINT, old_int);
    signal(SIGTERM, old_term);
    fclose(f);
    return pw;
}
