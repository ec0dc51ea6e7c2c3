/*
 * main.c - black-box runner: `blackbox DAEMON [FILTER]` runs every
 * registered case (or those whose name contains FILTER) against the binary
 * and prints "blackbox: N passed, M failed".
 */
#include <stdarg.h>
#include <stdio.h>

#include "bb.h"

int bb_up(bb_daemon *d, bb_env *e, ...) {
    bb_env_default(e, bb_free_port(), bb_lk_port);
    va_list ap;
    va_start(ap, e);
    int rc = bb_env_up(d, e, ap);
    va_end(ap);
    return rc;
}

void bb_session_body(char *out, size_t cap, const char *room, const char *participant) {
    snprintf(out, cap, "{\"participantId\":\"%s\",\"roomId\":\"%s\",\"displayName\":\"P %s\"}",
             participant, room, participant);
}

static void make_keys(void) {
    if (bb_keys_init() < 0) fprintf(stderr, "warning: openssl key generation failed\n");
}

int main(int argc, char **argv) {
    bb_run_opts o = {.suite = "blackbox", .tmp_prefix = "pvbb", .before = make_keys};
    return bb_run_main(argc, argv, &o);
}
