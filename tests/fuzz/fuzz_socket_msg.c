/*
 * fuzz_socket_msg - policy socket client message parser.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "json_in.h"

static pvj_ctx *ctx;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ctx) ctx = pvj_ctx_new(16 * 1024);
    pvj_err err;
    pvj_client_msg m;
    if (pvj_parse_client_msg(ctx, (const char *)data, size, &m, &err) != 0) {
        assert(err.code == PV_ERR_INVALID_PAYLOAD && err.message[0]);
        return 0;
    }
    switch (m.kind) {
    case PVJ_CLIENT_AUTH:
        assert(m.token && strlen(m.token) >= 1 && strlen(m.token) <= PVJ_TOKEN_MAX_BYTES);
        break;
    case PVJ_CLIENT_SNAPSHOT_REQUEST:
        assert(pv_id_valid(m.room_id) && m.msg.type == PV_CMSG_SNAPSHOT_REQUEST);
        assert(!m.reason || strlen(m.reason) <= PVJ_REASON_MAX);
        assert(m.msg.revision <= (uint64_t)PVJ_MAX_SAFE_INT);
        break;
    case PVJ_CLIENT_AUDIENCE_ACK:
        assert(m.msg.type == PV_CMSG_AUDIENCE_ACK && m.msg.revision <= (uint64_t)PVJ_MAX_SAFE_INT);
        break;
    default:
        assert(0);
    }
    return 0;
}
