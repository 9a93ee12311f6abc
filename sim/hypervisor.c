/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "sim/hv-internal.h"

int hypervisor_new(sd_event *event, struct xs_server *server, const char *dir,
                   struct hypervisor **ret)
{
        _cleanup_(hypervisor_freep) struct hypervisor *hv = NULL;
        int r;

        hv = calloc(1, sizeof(*hv));
        if (!hv)
                return -ENOMEM;
        hv->lock_fd = hv->listen_fd = -1;
        hv->event = sd_event_ref(event);
        hv->server = server;
        hv->dir = strdup(dir);
        hv->buf = malloc(HV_MSG_MAX);
        if (!hv->dir || !hv->buf || asprintf(&hv->socket_path, "%s/%s", dir, HV_SOCKET_NAME) < 0)
                return -ENOMEM;
        r = hv_model_init(hv);
        if (r < 0)
                return r;
        r = hv_socket_listen(hv);
        if (r < 0)
                return r;
        if (server) {
                xs_server_set_introduce_cb(server, hv_guest_on_introduce, hv);
                r = hv_backends_init(hv);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(hv);
        return 0;
}

struct hypervisor *hypervisor_free(struct hypervisor *hv)
{
        if (!hv)
                return NULL;
        if (hv->server)
                xs_server_set_introduce_cb(hv->server, NULL, NULL);
        hv_socket_close(hv);
        hv_backends_done(hv);
        hv_model_done(hv);
        hv_host_done(hv);
        sd_event_unref(hv->event);
        free(hv->socket_path);
        free(hv->dir);
        free(hv->buf);
        free(hv);
        return NULL;
}
