/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hv-socket.c — DIR/hypervisor.socket: check each request (sim/hv-proto.h),
 * count it, apply an injected fault, run it against the model, reply (a
 * VIF_PLUG whose interface is not there yet: once it is, or the wait is over).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "sim/hv-internal.h"

struct hv_client {
        struct hypervisor *hv;
        int fd;
        sd_event_source *source;
        struct hv_client *next;

        /* A VIF_PLUG waiting for netback's interface: its request, until when. */
        struct hv_header wait_header;
        struct hv_req_vif_plug wait_req;
        uint64_t wait_until_ns;
        sd_event_source *wait_timer;
};

#define HV_VIF_POLL_USEC 10000ull

static void hv_client_free(struct hv_client *c)
{
        struct hypervisor *hv = c->hv;

        for (struct hv_client **p = &hv->clients; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        hv->n_clients--;
        sd_event_source_disable_unref(c->wait_timer);
        sd_event_source_disable_unref(c->source);
        close(c->fd);
        free(c);
}

/* Send one reply; a client that does not read its replies is dropped (-EAGAIN). */
static int hv_reply(struct hv_client *c, const struct hv_header *req, int result, const void *body,
                    size_t len)
{
        struct hv_header h = {
                .magic = HV_PROTO_MAGIC,
                .version = HV_PROTO_VERSION,
                .op = req->op,
                .seq = req->seq,
                .result = result,
                .len = result < 0 ? 0 : (uint32_t)len,
        };
        struct iovec iov[2] = {
                { .iov_base = &h, .iov_len = sizeof(h) },
                { .iov_base = (void *)body, .iov_len = h.len },
        };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = h.len ? 2 : 1 };

        if (sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

/* An injected fault for this call of op, as a negative errno, or 0. */
static int hv_fault_check(struct hypervisor *hv, uint16_t op)
{
        struct hv_fault *f = &hv->faults[op];
        int e;

        if (f->countdown == 0)
                return 0;
        if (--f->countdown > 0)
                return 0;
        e = f->error;
        if (--f->count > 0)
                f->countdown = 1;
        return -e;
}

static int hv_do_list(struct hypervisor *hv, const struct hv_req_list *req, uint8_t *out,
                      size_t *len_r)
{
        struct hv_rep_list *rep = (struct hv_rep_list *)out;
        struct hv_dominfo *infos = (struct hv_dominfo *)(out + sizeof(*rep));
        uint32_t n = 0;

        if (req->max == 0 || req->max > HV_LIST_BATCH)
                return -EINVAL;
        for (uint32_t id = req->first_domid; id < DOMID_FIRST_RESERVED && n < req->max; id++)
                if (hv->domains[id])
                        hv_domain_info(hv->domains[id], &infos[n++]);
        rep->n = n;
        rep->reserved = 0;
        *len_r = sizeof(*rep) + n * sizeof(*infos);
        return 0;
}

/* The ops that test tools use to drive the host: never faulted themselves. */
static bool hv_op_is_control(uint16_t op)
{
        return op == HV_OP_STATS || op == HV_OP_FAULT || op == HV_OP_DEVICE_FAULT;
}

/* The ops whose request names an existing domain (hv_req_dom, hv_req_handle, hv_req_vcpu_pin). */
static bool hv_op_names_domain(uint16_t op)
{
        switch (op) {
        case HV_OP_VCPU_INFO:
        case HV_OP_VCPU_PIN:
        case HV_OP_UNPAUSE:
        case HV_OP_PAUSE:
        case HV_OP_SHUTDOWN:
        case HV_OP_DESTROY:
        case HV_OP_SET_MEMORY:
        case HV_OP_SET_VCPUS:
        case HV_OP_DUMPCORE:
        case HV_OP_GUEST_ACTION:
        case HV_OP_SET_HANDLE:
        case HV_OP_SAVE:
        case HV_OP_RESUME:
                return true;
        default:
                return false;
        }
}

/* The domain a request of an op hv_op_names_domain() accepts names. */
static uint32_t hv_req_domid(uint16_t op, const void *body)
{
        const struct hv_req_dom *rd = body;
        const struct hv_req_handle *rh = body;
        const struct hv_req_vcpu_pin *rp = body;

        switch (op) {
        case HV_OP_SET_HANDLE:
                return rh->domid;
        case HV_OP_VCPU_PIN:
                return rp->domid;
        default:
                return rd->domid;
        }
}

/* The fixed-size strings of a request each hold their NUL. */
static bool hv_req_strings_ok(uint16_t op, const void *body)
{
        const struct hv_req_vif_plug *plug = body;
        const struct hv_req_vif_unplug *unplug = body;

        switch (op) {
        case HV_OP_VIF_PLUG:
                return HV_STRING_OK(plug->ifname) && HV_STRING_OK(plug->rename) &&
                       HV_STRING_OK(plug->bridge);
        case HV_OP_VIF_UNPLUG:
                return HV_STRING_OK(unplug->ifname);
        default:
                return true;
        }
}

static int hv_do_fault(struct hypervisor *hv, const struct hv_req_fault *req)
{
        if (req->op == 0 || req->op >= _HV_OP_MAX || hv_op_is_control((uint16_t)req->op))
                return -EINVAL;
        if (req->nth == 0) {
                hv->faults[req->op] = (struct hv_fault){ 0 };
                return 0;
        }
        if (req->error <= 0 || (req->error > 4095 && req->error != HV_FAULT_NO_REPLY))
                return -EINVAL;
        hv->faults[req->op] = (struct hv_fault){
                .countdown = req->nth,
                .count = req->count ? req->count : 1,
                .error = req->error,
        };
        return 0;
}

/* CREATE's and RESTORE's reply: what the toolstack needs of a new domain. Its length. */
static size_t hv_rep_created(const struct hv_domain *d, uint8_t *out, const char *how)
{
        struct hv_rep_create *rep = (struct hv_rep_create *)out;

        memset(rep, 0, sizeof(*rep));
        rep->domid = d->domid;
        rep->store_port = d->store_port;
        rep->store_mfn = d->store_mfn;
        rep->console_port = d->console_port;
        rep->console_mfn = d->console_mfn;
        fprintf(stderr, "xensup-sim: %s domid %u (%s)\n", how, d->domid, d->name);
        return sizeof(*rep);
}

/*
 * Run a checked request; its reply body goes to out (HV_MSG_MAX bytes). *withhold_r: a
 * HV_FAULT_NO_REPLY fault took this call, which runs but must not be answered.
 */
static int hv_dispatch(struct hypervisor *hv, uint16_t op, const void *body, uint8_t *out,
                       size_t *len_r, bool *withhold_r)
{
        const struct hv_req_dom *rd = body;
        const struct hv_req_handle *rh = body;
        struct hv_domain *d = NULL;
        int r;

        *len_r = 0;
        *withhold_r = false;
        if (!hv_op_is_control(op)) {
                r = hv_fault_check(hv, op);
                if (r == -HV_FAULT_NO_REPLY)
                        *withhold_r = true;
                else if (r < 0)
                        return r;
        }
        if (hv_op_names_domain(op)) {
                d = hv_domain_get(hv, hv_req_domid(op, body));
                if (!d)
                        return -ESRCH;
        }

        switch (op) {
        case HV_OP_STATS: {
                struct hv_rep_stats *st = (struct hv_rep_stats *)out;

                memset(st, 0, sizeof(*st));
                st->pid = (uint32_t)getpid();
                st->domains = hv->n_domains;
                st->total_kib = hv->total_kib;
                st->free_kib = hv_free_kib(hv);
                memcpy(st->calls, hv->calls, sizeof(st->calls));
                *len_r = sizeof(*st);
                return 0;
        }
        case HV_OP_CREATE:
                r = hv_domain_create(hv, body, &d);
                if (r >= 0)
                        *len_r = hv_rep_created(d, out, "created");
                return r;
        case HV_OP_UNPAUSE:
                return hv_domain_unpause(d);
        case HV_OP_PAUSE:
                return hv_domain_pause(d);
        case HV_OP_SHUTDOWN:
                return hv_domain_shutdown(d, (enum shutdown_reason)rd->value);
        case HV_OP_DESTROY:
                return hv_domain_destroy(d);
        case HV_OP_LIST:
                return hv_do_list(hv, body, out, len_r);
        case HV_OP_SET_MEMORY:
                return hv_domain_set_memory(d, rd->value64);
        case HV_OP_SET_VCPUS:
                return hv_domain_set_vcpus(d, rd->value);
        case HV_OP_DUMPCORE: {
                struct hv_rep_dumpcore *core = (struct hv_rep_dumpcore *)out;
                struct hv_dominfo info;

                if (d->domid == 0)
                        return -EINVAL;
                hv_domain_info(d, &info);
                memset(core, 0, sizeof(*core));
                core->domid = d->domid;
                core->online_vcpus = d->online_vcpus;
                memcpy(core->handle, d->handle, sizeof(core->handle));
                strcpy(core->name, d->name);
                core->mem_kib = d->mem_kib;
                core->cpu_time_ns = info.cpu_time_ns;
                core->shutdown = d->shutdown;
                core->shutdown_reason = d->shutdown ? (uint32_t)d->reason : 0;
                *len_r = sizeof(*core);
                return 0;
        }
        case HV_OP_GUEST_ACTION:
                return hv_guest_action(d, (enum hv_guest_action)rd->value);
        case HV_OP_FAULT:
                return hv_do_fault(hv, body);
        case HV_OP_SET_HANDLE:
                return hv_domain_set_handle(d, rh->handle);
        case HV_OP_FIND_HANDLE: {
                struct hv_rep_find *found = (struct hv_rep_find *)out;

                memset(found, 0, sizeof(*found));
                found->domid = hv_find_live_handle(hv, rh->handle);
                *len_r = sizeof(*found);
                return 0;
        }
        case HV_OP_LOOP_ATTACH:
                r = hv_loop_attach(hv, body, (struct hv_rep_loop_attach *)out);
                if (r >= 0)
                        *len_r = sizeof(struct hv_rep_loop_attach);
                return r;
        case HV_OP_LOOP_RELEASE:
                return hv_loop_release(hv, body);
        case HV_OP_VIF_PLUG:
                r = hv_vif_plug(hv, body, (struct hv_rep_vif_plug *)out);
                if (r == 0)
                        *len_r = sizeof(struct hv_rep_vif_plug);
                return r; /* HV_VIF_ABSENT: the caller waits for the interface */
        case HV_OP_VIF_UNPLUG:
                return hv_vif_unplug(hv, body);
        case HV_OP_HOST_LIST:
                return hv_host_list(hv, body, out, len_r);
        case HV_OP_DEVICE_FAULT:
                return hv_device_fault(hv, body);
        case HV_OP_SAVE:
                r = hv_domain_save(d, (struct hv_guest_state *)out);
                if (r >= 0)
                        *len_r = sizeof(struct hv_guest_state);
                return r;
        case HV_OP_RESTORE:
                r = hv_domain_restore(hv, body, &d);
                if (r >= 0)
                        *len_r = hv_rep_created(d, out, "restored");
                return r;
        case HV_OP_RESUME:
                return hv_domain_resume(d);
        case HV_OP_PHYSINFO:
                hv_physinfo(hv, (struct hv_rep_physinfo *)out);
                *len_r = sizeof(struct hv_rep_physinfo);
                return 0;
        case HV_OP_VCPU_INFO:
                r = hv_domain_vcpu_info(d, rd->value, (struct hv_rep_vcpu_info *)out);
                if (r >= 0)
                        *len_r = sizeof(struct hv_rep_vcpu_info);
                return r;
        case HV_OP_VCPU_PIN:
                return hv_domain_vcpu_pin(d, body);
        default:
                return -EBADMSG;
        }
}

static void hv_client_resume(struct hv_client *c)
{
        c->wait_timer = sd_event_source_disable_unref(c->wait_timer);
        if (sd_event_source_set_enabled(c->source, SD_EVENT_ON) < 0)
                hv_client_free(c);
}

/* Try the waiting VIF_PLUG again: answer once the interface is there or the wait is over. */
static int on_vif_wait(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct hv_client *c = userdata;
        struct hv_rep_vif_plug rep;
        int r;

        (void)usec;
        r = hv_vif_plug(c->hv, &c->wait_req, &rep);
        if (r == HV_VIF_ABSENT && hv_now_ns() < c->wait_until_ns) {
                if (sd_event_source_set_time_relative(s, HV_VIF_POLL_USEC) >= 0 &&
                    sd_event_source_set_enabled(s, SD_EVENT_ONESHOT) >= 0)
                        return 0;
        }
        if (r == HV_VIF_ABSENT) {
                fprintf(stderr, "xensup-sim: %s: no such interface\n", c->wait_req.ifname);
                r = -ENODEV;
        }
        if (hv_reply(c, &c->wait_header, r, &rep, sizeof(rep)) < 0) {
                hv_client_free(c);
                return 0;
        }
        hv_client_resume(c);
        return 0;
}

/*
 * netback creates the interface from the event loop: answer later, as the
 * real vif_plug waits for it. The client sends nothing before this reply, so
 * its socket is not read meanwhile.
 */
static bool hv_client_wait_vif(struct hv_client *c, const struct hv_header *h)
{
        struct hypervisor *hv = c->hv;
        int r;

        c->wait_header = *h;
        memcpy(&c->wait_req, hv->buf + sizeof(*h), sizeof(c->wait_req));
        c->wait_until_ns = hv_now_ns() + HV_VIF_WAIT_MS * 1000000ull;
        r = sd_event_add_time_relative(hv->event, &c->wait_timer, CLOCK_MONOTONIC, HV_VIF_POLL_USEC,
                                       1000, on_vif_wait, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->source, SD_EVENT_OFF);
        if (r < 0) {
                c->wait_timer = sd_event_source_disable_unref(c->wait_timer);
                return hv_reply(c, h, r, NULL, 0) >= 0;
        }
        return true;
}

/* One packet from a client: false when the client must go. */
static bool hv_client_handle(struct hv_client *c)
{
        struct hypervisor *hv = c->hv;
        struct hv_header h;
        uint8_t *out;
        size_t out_len = 0;
        bool withhold;
        ssize_t n;
        long want;
        int r;

        n = recv(c->fd, hv->buf, HV_MSG_MAX, MSG_TRUNC | MSG_DONTWAIT);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR;
        if (n == 0)
                return false;
        if ((size_t)n < sizeof(h) || n > HV_MSG_MAX)
                return false; /* not even a header, or truncated: nothing to answer */
        memcpy(&h, hv->buf, sizeof(h));
        want = hv_req_size(h.op);
        if (h.magic != HV_PROTO_MAGIC || h.version != HV_PROTO_VERSION || h.result != 0 ||
            h.len != (size_t)n - sizeof(h) || want < 0 || h.len != (size_t)want ||
            !hv_req_strings_ok(h.op, hv->buf + sizeof(h))) {
                fprintf(stderr, "xensup-sim: hypervisor.socket: malformed request dropped\n");
                (void)hv_reply(c, &h, -EBADMSG, NULL, 0);
                return false;
        }
        hv->calls[h.op]++;
        /* The reply body is built after the request body, in the same buffer. */
        out = hv->buf + HV_MSG_MAX / 2;
        _Static_assert(sizeof(struct hv_header) + sizeof(struct hv_req_create) <= HV_MSG_MAX / 2,
                       "request fits the first half");
        _Static_assert(sizeof(struct hv_header) + sizeof(struct hv_req_restore) <= HV_MSG_MAX / 2,
                       "request fits the first half");
        _Static_assert(sizeof(struct hv_rep_list) + HV_LIST_BATCH * sizeof(struct hv_dominfo) <=
                           HV_MSG_MAX / 2,
                       "reply fits the second half");
        r = hv_dispatch(hv, h.op, hv->buf + sizeof(h), out, &out_len, &withhold);
        if (withhold) {
                /* The caller blocks on a reply that never comes; the connection stays theirs. */
                fprintf(stderr, "xensup-sim: op %u done, its reply withheld (fault)\n",
                        (unsigned)h.op);
                return true;
        }
        if (r == HV_VIF_ABSENT)
                return hv_client_wait_vif(c, &h);
        return hv_reply(c, &h, r, out, out_len) >= 0;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct hv_client *c = userdata;

        (void)s;
        (void)fd;
        if ((revents & EPOLLIN) && hv_client_handle(c))
                return 0;
        if (revents & EPOLLIN)
                hv_client_free(c);
        else if (revents & (EPOLLHUP | EPOLLERR))
                hv_client_free(c);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct hypervisor *hv = userdata;
        struct hv_client *c;
        int cfd, r;

        (void)s;
        (void)revents;
        cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        if (hv->n_clients >= HV_CLIENTS_MAX) {
                fprintf(stderr, "xensup-sim: hypervisor.socket: too many clients, refused one\n");
                close(cfd);
                return 0;
        }
        c = calloc(1, sizeof(*c));
        if (!c) {
                close(cfd);
                return 0;
        }
        c->hv = hv;
        c->fd = cfd;
        r = sd_event_add_io(hv->event, &c->source, cfd, EPOLLIN, on_client, c);
        if (r < 0) {
                close(cfd);
                free(c);
                return 0;
        }
        c->next = hv->clients;
        hv->clients = c;
        hv->n_clients++;
        return 0;
}

/* Whether something answers on the socket path. */
static bool hv_socket_alive(const struct sockaddr_un *sa)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        return fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
}

int hv_socket_listen(struct hypervisor *hv)
{
        _cleanup_free_ char *lock_path = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        int r;

        if (strlen(hv->socket_path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, hv->socket_path);
        if (asprintf(&lock_path, "%s/hypervisor.lock", hv->dir) < 0)
                return -ENOMEM;
        /* One hypervisor per directory: the lock lives as long as this process holds it. */
        hv->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (hv->lock_fd < 0)
                return -errno;
        if (flock(hv->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EADDRINUSE : -errno;
        if (hv_socket_alive(&sa))
                return -EADDRINUSE;
        (void)unlink(hv->socket_path);

        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        /* Whoever can connect can destroy domains: the owner only, as privcmd is root's. */
        if (chmod(hv->socket_path, 0600) < 0 || listen(fd, 64) < 0) {
                r = -errno;
                (void)unlink(hv->socket_path);
                return r;
        }
        r = sd_event_add_io(hv->event, &hv->listen_source, fd, EPOLLIN, on_accept, hv);
        if (r < 0)
                return r;
        hv->listen_fd = TAKE_FD(fd);
        return 0;
}

void hv_socket_close(struct hypervisor *hv)
{
        while (hv->clients)
                hv_client_free(hv->clients);
        hv->listen_source = sd_event_source_disable_unref(hv->listen_source);
        if (hv->listen_fd >= 0) {
                close(hv->listen_fd);
                hv->listen_fd = -1;
                (void)unlink(hv->socket_path);
        }
        if (hv->lock_fd >= 0) {
                close(hv->lock_fd);
                hv->lock_fd = -1;
        }
}
