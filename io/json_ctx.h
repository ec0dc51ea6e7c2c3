/*
 * json_ctx.h - INTERNAL: the layout of pvj_ctx, shared by json_in.c and
 * json_lk.c. Not part of the io API.
 */
#ifndef PV_JSON_CTX_H
#define PV_JSON_CTX_H

#include "json_tok.h"

#define PVJ_MAX_TOKENS 65536 /* hard cap of the token array */

struct pvj_ctx {
    size_t max_body;
    jsmntok_t *toks;
    uint32_t max_toks;
    char *arena;
    size_t arena_cap;
    pvj_err scratch_err; /* used when the caller passes err == NULL */
    pv_meta_pair meta[PV_META_MAX_PAIRS];
    pv_pose_in poses[PVJ_MAX_POSES];
    pv_lk_participant parts[PVJ_MAX_LK_PARTICIPANTS];
};

/* Reset the doc over the ctx, check size, validate, tokenise, check the top
 * type. Returns 0 or PV_EINVAL (error in d->err). */
int pvj_begin(pvj_ctx *c, pvj_doc *d, const char *body, size_t len, pvj_err *err, jsmntype_t top);

#endif
