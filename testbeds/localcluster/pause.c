/* The pod sandbox's pause process: holds the pod's namespaces, reaps
 * zombies (it is PID 1 when the pod shares its PID namespace) and exits
 * cleanly on SIGTERM/SIGINT.  Built static so the image needs no libc. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

static void on_child(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction term = {.sa_handler = on_term};
    struct sigaction chld = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
    sigaction(SIGTERM, &term, NULL);
    sigaction(SIGINT, &term, NULL);
    sigaction(SIGCHLD, &chld, NULL);
    for (;;)
        pause();
    return 0;
}
