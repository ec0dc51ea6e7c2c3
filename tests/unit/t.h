/*
 * t.h - a tiny test harness for the C unit suites.
 *
 * Each test file defines `static void test_xxx(void)` functions and a
 * main() that calls T_RUN(test_xxx) for each, then `return t_done("name");`.
 * CHECK() records a failure and continues; REQUIRE() stops the test.
 * t_done() prints "name: N passed, M failed" (one line per suite) and
 * returns non-zero on failure. Assertions print file:line and the expression.
 */
#ifndef PV_T_H
#define PV_T_H

#include <stdio.h>
#include <string.h>
#include <setjmp.h>

static int t_passed, t_failed, t_cur_failed;
static const char *t_cur_name;
static jmp_buf t_jmp;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d in %s: %s\n", __FILE__, __LINE__, t_cur_name, #cond);    \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "  FAIL %s:%d in %s: %s\n", __FILE__, __LINE__, t_cur_name, #cond);    \
            t_cur_failed = 1;                                                                      \
            longjmp(t_jmp, 1);                                                                     \
        }                                                                                          \
    } while (0)
#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long t_a = (long long)(a), t_b = (long long)(b);                                      \
        if (t_a != t_b) {                                                                          \
            fprintf(stderr, "  FAIL %s:%d in %s: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,   \
                    t_cur_name, #a, #b, t_a, t_b);                                                 \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)
#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *t_sa = (a), *t_sb = (b);                                                       \
        if (!t_sa || !t_sb || strcmp(t_sa, t_sb) != 0) {                                           \
            fprintf(stderr, "  FAIL %s:%d in %s: %s == %s (\"%s\" != \"%s\")\n", __FILE__,         \
                    __LINE__, t_cur_name, #a, #b, t_sa ? t_sa : "(null)", t_sb ? t_sb : "(null)"); \
            t_cur_failed = 1;                                                                      \
        }                                                                                          \
    } while (0)

#define T_RUN(fn)                                                                                  \
    do {                                                                                           \
        t_cur_name = #fn;                                                                          \
        t_cur_failed = 0;                                                                          \
        if (setjmp(t_jmp) == 0) fn();                                                              \
        if (t_cur_failed) {                                                                        \
            t_failed++;                                                                            \
            fprintf(stderr, "not ok %s\n", #fn);                                                   \
        } else {                                                                                   \
            t_passed++;                                                                            \
        }                                                                                          \
    } while (0)

static inline int t_done(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, t_passed, t_failed);
    return t_failed ? 1 : 0;
}

#endif
