/*
 * ids.c - the simulator's identifiers. Players are "p000".."p099" (zero
 * padded, so index order is participant-ID order), rooms "room0".."room2",
 * microphone tracks "TR_<n>" with n never reused in a run (a republish after
 * a LiveKit restart gets a new SID, as in LiveKit).
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

/* Returns the player index, or -1 when id is not one of ours. */
int sim_player_of(const sim *s, const char *id) {
    if (!id || strlen(id) != 4 || id[0] != 'p') return -1;
    int v = 0;
    for (int i = 1; i < 4; i++) {
        if (id[i] < '0' || id[i] > '9') return -1;
        v = v * 10 + (id[i] - '0');
    }
    return v < (int)s->o.players ? v : -1;
}

/* Returns the room index, or -1. */
int sim_room_of(const sim *s, const char *id) {
    for (uint32_t r = 0; r < s->o.rooms; r++)
        if (id && strcmp(id, s->room_id[r]) == 0) return (int)r;
    return -1;
}

/* Returns the track number of "TR_<n>", or 0 when sid is not one of ours. */
uint32_t sim_track_of(const char *sid) {
    if (!sid || strncmp(sid, "TR_", 3) != 0 || sid[3] == 0) return 0;
    uint32_t v = 0;
    for (const char *c = sid + 3; *c; c++) {
        if (*c < '0' || *c > '9' || v > 100000000u) return 0;
        v = v * 10 + (uint32_t)(*c - '0');
    }
    return v;
}

/* Formats LiveKit participant SID "PA_<join>" into scratch slot `slot`
 * (valid until the slot is reused). */
const char *sim_participant_sid(sim *s, uint32_t slot, uint32_t join) {
    snprintf(s->scratch_psids[slot], sizeof(s->scratch_psids[slot]), "PA_%u", join);
    return s->scratch_psids[slot];
}

/* Formats track into scratch slot `slot` (valid until the slot is reused). */
const char *sim_track_sid(sim *s, uint32_t slot, uint32_t track) {
    snprintf(s->scratch_sids[slot], sizeof(s->scratch_sids[slot]), "TR_%u", track);
    return s->scratch_sids[slot];
}
