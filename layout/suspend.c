/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "layout/plan.h"
#include "layout/suspend.h"

#define SUSPEND_TOKEN "xensup-suspend"
#define RELEASE_TOKEN "xensup-release"

/* Whether control/shutdown still holds the request: 1, 0 (acknowledged), or the failure. */
static int suspend_pending(struct layout *l, xs_transaction_t t, const char *path)
{
        _cleanup_free_ char *v = NULL;
        unsigned len;
        int r = x_read(l, t, path, &v, &len);

        /* A node the guest removed is an answer too: Linux writes "" but a guest may differ. */
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return len == 7 && memcmp(v, "suspend", 7) == 0;
}

/* An unanswered request withdrawn in one transaction: an answer at the last moment wins. */
struct withdraw {
        const char *path;
        bool acked;
};

/* Step (userdata: the struct withdraw, whose acked it sets). */
static int withdraw_step(struct layout *l, xs_transaction_t t, const void *userdata, char **err_r)
{
        struct withdraw *w = (struct withdraw *)userdata;
        int r = suspend_pending(l, t, w->path);

        (void)err_r;
        if (r < 0)
                return r;
        w->acked = r == 0;
        return w->acked ? 0 : x_write(l, t, w->path, "");
}

/* A guest's control/shutdown into path, once domid is checked; what names the step. */
static int shutdown_node(uint32_t domid, const char *what, char path[64], char **err_r)
{
        int r = check_domid(domid, what, err_r);

        if (r >= 0)
                snprintf(path, 64, "/local/domain/%" PRIu32 "/control/shutdown", domid);
        return r;
}

int layout_request_suspend(struct layout *l, uint32_t domid, unsigned timeout_ms, char **err_r)
{
        char path[64], what[96];
        struct withdraw w = { .path = path };
        uint64_t deadline;
        int r;

        snprintf(what, sizeof(what), "asking domain %" PRIu32 " to suspend", domid);
        r = shutdown_node(domid, what, path, err_r);
        if (r < 0)
                return r;
        /* Watched first: an acknowledgement right after the write is not missed. */
        r = x_watch(l, path, SUSPEND_TOKEN);
        if (r < 0)
                return err_setf(err_r, r, "%s: cannot watch %s: %s", what, path, strerror(-r));
        r = layout_request_shutdown(l, domid, "suspend", err_r);
        deadline = x_now_ms() + timeout_ms;
        while (r >= 0) {
                uint64_t now;

                r = suspend_pending(l, XBT_NULL, path);
                if (r <= 0) {
                        if (r < 0)
                                err_setf(err_r, r, "%s: cannot read %s: %s", what, path,
                                         strerror(-r));
                        break;
                }
                now = x_now_ms();
                if (now >= deadline) {
                        r = run_step(l, what, withdraw_step, &w, err_r);
                        if (r >= 0 && !w.acked)
                                r = err_setf(err_r, -ETIMEDOUT,
                                             "domain %" PRIu32 " did not acknowledge the suspend "
                                             "request within %u.%03u s (its kernel may lack "
                                             "CONFIG_XEN_SAVE_RESTORE, or it is paused or hung); "
                                             "the request was withdrawn and it runs on",
                                             domid, timeout_ms / 1000, timeout_ms % 1000);
                        break;
                }
                r = x_wait_watch(l, (unsigned)(deadline - now));
        }
        (void)x_unwatch(l, path, SUSPEND_TOKEN);
        return r < 0 ? r : 0;
}

int layout_withdraw_suspend(struct layout *l, uint32_t domid, char **err_r)
{
        char path[64], what[96];
        struct withdraw w = { .path = path };
        int r;

        snprintf(what, sizeof(what), "withdrawing domain %" PRIu32 "'s suspend request", domid);
        r = shutdown_node(domid, what, path, err_r);
        if (r < 0)
                return r;
        return run_step(l, what, withdraw_step, &w, err_r);
}

int layout_watch_release(struct layout *l, char **err_r)
{
        int r = x_watch(l, "@releaseDomain", RELEASE_TOKEN);

        if (r < 0)
                return err_setf(err_r, r, "cannot watch @releaseDomain: %s", strerror(-r));
        return 0;
}

int layout_wait_event(struct layout *l, unsigned timeout_ms)
{
        return x_wait_watch(l, timeout_ms);
}

int layout_resume_domain(struct layout *l, uint32_t domid, char **err_r)
{
        int r = x_resume_domain(l, domid);

        if (r < 0)
                return err_setf(err_r, r, "xenstored cannot resume domain %" PRIu32 ": %s", domid,
                                strerror(-r));
        return 0;
}

static const char *const feature_names[] = { "poweroff", "reboot", "suspend" };

static char *feature_field(struct layout_guest_features *f, size_t i)
{
        return i == 0 ? f->poweroff : i == 1 ? f->reboot : f->suspend;
}

int layout_read_guest_features(struct layout *l, uint32_t domid, struct layout_guest_features *f,
                               char **err_r)
{
        int r;

        *f = (struct layout_guest_features){ 0 };
        r = check_domid(domid, "reading the guest's features", err_r);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(feature_names); i++) {
                _cleanup_free_ char *v = NULL;
                char path[80];
                unsigned len;

                snprintf(path, sizeof(path), "/local/domain/%" PRIu32 "/control/feature-%s", domid,
                         feature_names[i]);
                r = x_read(l, XBT_NULL, path, &v, &len);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return err_setf(err_r, r, "cannot read %s: %s", path, strerror(-r));
                /* The guest wrote it: only the two answers Linux gives are kept. */
                if (len == 1 && (v[0] == '0' || v[0] == '1'))
                        feature_field(f, i)[0] = v[0];
        }
        return 0;
}

int layout_write_guest_features(struct layout *l, uint32_t domid,
                                const struct layout_guest_features *f, char **err_r)
{
        _cleanup_(plan_donep) struct plan p = { .domid = domid };
        struct layout_guest_features copy = *f;
        char what[96];
        int r;

        snprintf(what, sizeof(what), "carrying domain %" PRIu32 "'s features over", domid);
        r = check_domid(domid, what, err_r);
        if (r < 0)
                return r;
        plan_guard(&p, "/local/domain/%" PRIu32, domid);
        for (size_t i = 0; i < ELEMENTSOF(feature_names); i++) {
                const char *v = feature_field(&copy, i);

                if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
                        plan_add(&p, LAYOUT_ACCESS_WRITE, v,
                                 "/local/domain/%" PRIu32 "/control/feature-%s", domid,
                                 feature_names[i]);
        }
        if (p.n == 0)
                return 0;
        return plan_run(l, &p, update_execute, what, err_r);
}
