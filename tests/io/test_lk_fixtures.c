/*
 * test_lk_fixtures.c - our webhook authentication and LiveKit parsers
 * against real payloads captured from LiveKit v1.13.5
 * (tests/bots/fixtures, see its README: anonymised, re-signed with
 * fixturekey / fixture-secret-...). Run from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"
#include "t.h"
#include "tokens.h"

#define DIR "tests/bots/fixtures/"
#define NOW 1760000100000LL

static pvj_ctx *C;
static pvsecret SEC;
static char body[65536], auth[8192];

static size_t slurp(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n;
}

/* Loads <event>.json and .auth, checks auth, parses. Returns 0 or -1. */
static int load(const char *event, pvj_webhook *w) {
    char path[256];
    snprintf(path, sizeof path, DIR "webhooks/%s.json", event);
    size_t bn = slurp(path, body, sizeof body);
    snprintf(path, sizeof path, DIR "webhooks/%s.auth", event);
    size_t an = slurp(path, auth, sizeof auth);
    if (bn == 0 || an == 0) {
        fprintf(stderr, "    missing fixture %s\n", path);
        return -1;
    }
    while (an && (auth[an - 1] == '\n' || auth[an - 1] == '\r'))
        auth[--an] = '\0';
    int rc = pvtok_webhook_verify(auth, an, "fixturekey", &SEC, body, bn, NOW, 30000);
    if (rc) {
        fprintf(stderr, "    %s: %s\n", event, pvjwt_strerror(rc));
        return -1;
    }
    /* one byte more or less in the body and it no longer verifies */
    if (pvtok_webhook_verify(auth, an, "fixturekey", &SEC, body, bn - 1, NOW, 30000) == 0)
        return -1;
    pvj_err e;
    if (pvj_parse_webhook(C, body, bn, w, &e)) {
        fprintf(stderr, "    %s: %s\n", event, e.message);
        return -1;
    }
    return 0;
}

static void test_webhooks(void) {
    pvj_webhook w;
    REQUIRE(load("room_started", &w) == 0);
    CHECK(w.relevant == 0);
    REQUIRE(load("participant_joined", &w) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_PARTICIPANT_JOINED);
    CHECK_STR(w.wh.room_id, "room_alpha");
    CHECK(w.wh.identity && w.wh.identity[0] == 'p');
    CHECK_EQ_INT(w.wh.created_at_s, 1760000000);
    CHECK_STR(w.wh.participant_sid, "PA_fixtureA"); /* participant.sid: one per connection */
    REQUIRE(load("track_published", &w) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_TRACK_PUBLISHED); /* "type" absent = AUDIO */
    CHECK_STR(w.wh.identity, "p_speaker");
    CHECK_STR(w.wh.track_sid, "TR_fixtureA");
    CHECK_STR(w.wh.participant_sid, "PA_fixtureA");
    REQUIRE(load("track_unpublished", &w) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_TRACK_UNPUBLISHED);
    CHECK(w.wh.track_sid != NULL);
    REQUIRE(load("participant_left", &w) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_PARTICIPANT_LEFT);
    CHECK_STR(w.wh.participant_sid, "PA_fixtureA");
    REQUIRE(load("participant_left.client_initiated", &w) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_PARTICIPANT_LEFT);
    CHECK_STR(w.wh.participant_sid, "PA_fixtureC");
    REQUIRE(load("room_finished", &w) == 0);
    CHECK(w.relevant && w.wh.kind == PV_WH_ROOM_FINISHED);
    CHECK(w.wh.participant_sid == NULL);
    CHECK_STR(w.wh.room_id, "room_alpha");
    /* outside the token's lifetime (exp 1760000300 + leeway) */
    size_t an = strlen(auth), bn = strlen(body);
    CHECK(pvtok_webhook_verify(auth, an, "fixturekey", &SEC, body, bn, 1760000330000LL, 30000) ==
          PVJWT_EEXPIRED);
    CHECK(pvtok_webhook_verify(auth, an, "otherkey", &SEC, body, bn, NOW, 30000) == PVJWT_ECLAIM);
}

static void test_list_participants(void) {
    size_t n = slurp(DIR "list_participants.json", body, sizeof body);
    REQUIRE(n > 0);
    const pv_lk_participant *p;
    uint32_t count, skipped;
    pvj_err e;
    int rc = pvj_parse_lk_participants(C, body, n, 64, &p, &count, &skipped, &e);
    if (rc) fprintf(stderr, "    %s\n", e.message);
    REQUIRE(rc == 0);
    REQUIRE(count >= 1);
    CHECK(skipped == 0);
    int with_mic = 0;
    for (uint32_t i = 0; i < count; i++) {
        CHECK(pv_id_valid(p[i].identity));
        if (strcmp(p[i].identity, "p_speaker") == 0) {
            CHECK_STR(p[i].mic_track_sid, "TR_fixtureA");
            CHECK_STR(p[i].participant_sid, "PA_fixtureA"); /* ParticipantInfo.sid */
            with_mic = 1;
        }
    }
    CHECK(with_mic);
    /* A strange participant SID is ignored, not fatal (it only sharpens
     * reconnection detection); a missing one is NULL. */
    static const char odd[] =
        "{\"participants\":[{\"identity\":\"p_a\",\"sid\":\"PA x\"},"
        "{\"identity\":\"p_b\"},{\"identity\":\"p_c\",\"sid\":"
        "\"PA_01234567890123456789012345678901234567890123456789012345678901\"}]}";
    REQUIRE(pvj_parse_lk_participants(C, odd, strlen(odd), 64, &p, &count, &skipped, &e) == 0);
    REQUIRE(count == 3);
    CHECK(p[0].participant_sid == NULL && p[1].participant_sid == NULL);
    CHECK(p[2].participant_sid == NULL); /* 65 bytes > PV_TRACK_SID_MAX */
}

int main(void) {
    C = pvj_ctx_new(0);
    if (!C || pvsecret_set(&SEC, "fixture-secret-0123456789abcdef0123456789", NULL, 0, NULL))
        return 2;
    T_RUN(test_webhooks);
    T_RUN(test_list_participants);
    pvj_ctx_free(C);
    return t_done("io livekit fixtures");
}
