/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-lifecycle — the supervisor's state machine (supervisor/lifecycle.c)
 * driven in C against a real xensup-sim, without D-Bus: the table the header
 * documents is the table the code has, each transition, the throttle under a
 * fake clock, a person's reboot not counted, the backoff's restart-wait, the
 * uuid guard, and adoption by a second manager over the same host.
 */
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <xenstore.h>

#include "builders/builder-sim.h"
#include "common/macros.h"
#include "supervisor/domain-table.h"
#include "supervisor/lifecycle.h"
#include "supervisor/manager.h"
#include "supervisor/reconcile.h"

static struct {
        char dir[64];
        char conf[96];
        char kernel[96];
        struct manager *m;
        uint64_t now; /* the fake CLOCK_REALTIME, seconds */
        pid_t sim_pid;
} fx;

static uint64_t fake_clock(void)
{
        return fx.now;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
        (void)st, (void)flag, (void)f;
        return remove(path);
}

/* Write DIR/conf/NAME.conf: a guest that runs until told, plus the extra lines. */
static void write_conf(const char *name, const char *extra)
{
        char path[160];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.conf", fx.conf, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fprintf(f, "name = \"%s\"\nmemory = 64\nmaxmem = 128\nkernel = \"%s\"\n%s\n", name,
                fx.kernel, extra ? extra : "");
        fclose(f);
}

static void manager_start(void)
{
        struct manager_options o = {
                .hypervisor = BUILDER_SIM,
                .config_dir = fx.conf,
                .sim_dir = fx.dir,
                .no_bus = true,
                .build_jobs = 2,
                .clock = fake_clock,
        };
        _cleanup_free_ char *err = NULL;

        assert_int_equal(manager_new(&o, &fx.m, &err), 0);
        assert_int_equal(manager_reconcile(fx.m), 0);
}

static void manager_stop(void)
{
        fx.m = manager_free(fx.m);
}

static struct domain *dom(const char *name)
{
        struct domain *d = manager_find_domain(fx.m, name);

        assert_non_null(d);
        return d;
}

/* Run the loop until name is in state s (10 s at most). */
static void run_until(const char *name, enum domain_state s)
{
        for (int i = 0; i < 200; i++) {
                if (dom(name)->state == s)
                        return;
                assert_true(sd_event_run(fx.m->event, 50000) >= 0);
        }
        fail_msg("%s is %s, not %s", name, domain_state_to_string(dom(name)->state),
                 domain_state_to_string(s));
}

/* Run the loop a little: let events that should not come show that they do not. */
static void run_for(unsigned ms)
{
        for (unsigned i = 0; i < ms / 10; i++)
                assert_true(sd_event_run(fx.m->event, 10000) >= 0);
}

static void guest(const char *name, enum hv_guest_action a)
{
        _cleanup_free_ char *err = NULL;

        assert_true(dom(name)->has_domid);
        assert_int_equal(builder_sim_guest_action(fx.m->builder, dom(name)->domid, a, &err), 0);
}

static int setup(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM };
        struct builder *b = NULL;
        struct builder_sim_stats st;
        _cleanup_free_ char *err = NULL;
        const char *build = getenv("XENSUP_BUILD");
        char path[4096];
        FILE *f;

        (void)state;
        memset(&fx, 0, sizeof(fx));
        fx.now = 1000000;
        strcpy(fx.dir, "/tmp/test-lifecycle.XXXXXX");
        assert_non_null(mkdtemp(fx.dir));
        snprintf(fx.conf, sizeof(fx.conf), "%s/conf", fx.dir);
        snprintf(fx.kernel, sizeof(fx.kernel), "%s/vmlinuz", fx.dir);
        assert_int_equal(mkdir(fx.conf, 0700), 0);
        f = fopen(fx.kernel, "w");
        assert_non_null(f);
        fputs("the simulator boots no kernel\n", f);
        fclose(f);
        /* builder_open spawns xensup-sim from PATH when none runs in the directory. */
        if (!strstr(getenv("PATH"), build ? build : "build")) {
                snprintf(path, sizeof(path), "%s:%s", build ? build : "build", getenv("PATH"));
                setenv("PATH", path, 1);
        }
        snprintf(path, sizeof(path), "%s/xenstored.socket", fx.dir);
        setenv("XENSTORED_PATH", path, 1);
        setenv("XENSUP_LOG", "stderr", 1);
        o.sim_dir = fx.dir;
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(builder_sim_stats(b, &st, &err), 0);
        fx.sim_pid = (pid_t)st.pid;
        builder_close(b);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        manager_stop();
        kill(fx.sim_pid, SIGTERM);
        for (int i = 0; i < 200 && kill(fx.sim_pid, 0) == 0; i++)
                poll(NULL, 0, 10);
        nftw(fx.dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

/* ---- the documented table is the code's ---- */

/* Add "state event" lines for every state of from (comma-separated) and every event of ev. */
static void doc_rows(FILE *out, char *from, char *ev)
{
        char *save_f = NULL, *save_e = NULL;

        for (char *e = strtok_r(ev, ", ", &save_e); e; e = strtok_r(NULL, ", ", &save_e)) {
                _cleanup_free_ char *copy = strdup(from);

                for (char *s = strtok_r(copy, ",", &save_f); s; s = strtok_r(NULL, ",", &save_f)) {
                        char *p = s + strspn(s, " ");
                        char *paren = strchr(p, '(');

                        if (paren)
                                *paren = '\0';
                        p[strcspn(p, " ")] = '\0';
                        if (*p)
                                fprintf(out, "%s %s\n", p, e);
                }
        }
}

/* The rows of the table in lifecycle.h's comment, as "state event" lines, sorted. */
static char *documented_rows(void)
{
        const char *src = getenv("XENSUP_SRC");
        char path[4096], line[256], from[512] = "", ev[128] = "";
        char *text = NULL;
        size_t size = 0;
        bool in = false;
        FILE *f, *out = open_memstream(&text, &size);

        snprintf(path, sizeof(path), "%s/supervisor/lifecycle.h", src ? src : ".");
        f = fopen(path, "r");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                size_t len = strlen(line);
                char fcol[40] = "", ecol[20] = "";

                if (strstr(line, " * from ")) {
                        in = true;
                        continue;
                }
                if (!in)
                        continue;
                if (strncmp(line, " */", 3) == 0)
                        break;
                /*
                 * Columns: from at 3..37, event at 38..50 (as the header lays them out); an
                 * event on a line of its own may run on, up to its first space.
                 */
                if (len > 3)
                        snprintf(fcol, sizeof(fcol), "%.*s", (int)(len > 38 ? 35 : len - 4),
                                 line + 3);
                if (len > 38)
                        snprintf(ecol, sizeof(ecol), "%.16s", line + 38);
                ecol[strcspn(ecol, " \n")] = '\0';
                fcol[strcspn(fcol, "\n")] = '\0';
                if (fcol[strspn(fcol, " ")] && !ev[0] &&
                    (from[0] == '\0' || from[strlen(from) - 1] == ','))
                        strncat(from, fcol, sizeof(from) - strlen(from) - 1);
                if (ecol[0]) {
                        strncat(ev, ecol, sizeof(ev) - strlen(ev) - 1);
                        if (ev[strlen(ev) - 1] == ',')
                                continue; /* the events go on on the next line */
                        doc_rows(out, from, ev);
                        from[0] = ev[0] = '\0';
                }
        }
        fclose(f);
        fclose(out);
        return text;
}

static int compare_lines(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the lines of text; returns them joined again. */
static char *sorted(char *text)
{
        char *lines[512] = { 0 }, *save = NULL, *joined = NULL;
        size_t n = 0, size = 0;
        FILE *out = open_memstream(&joined, &size);

        for (char *l = strtok_r(text, "\n", &save); l && n < ELEMENTSOF(lines);
             l = strtok_r(NULL, "\n", &save))
                lines[n++] = l;
        qsort(lines, n, sizeof(*lines), compare_lines);
        for (size_t i = 0; i < n; i++)
                fprintf(out, "%s\n", lines[i]);
        fclose(out);
        free(text);
        return joined;
}

static void test_table_matches_header(void **state)
{
        _cleanup_free_ char *doc = NULL, *code = NULL;
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        (void)state;
        lifecycle_describe(f);
        fclose(f);
        code = sorted(text);
        doc = sorted(documented_rows());
        assert_string_equal(doc, code);
        /* A newcomer finds "a crashed domain is restarted" in one row. */
        assert_non_null(strstr(code, "running died\n"));
}

/* ---- transitions ---- */

static void test_control_follows_the_table(void **state)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d;

        (void)state;
        write_conf("t1", "autostart = false");
        manager_start();
        d = dom("t1");
        assert_int_equal(d->state, DOMAIN_STOPPED);
        /* No row for (stopped, pause): refused by the table, a person reads why. */
        assert_int_equal(lifecycle_pause(fx.m, d, &e), OUTCOME_INVALID_STATE);
        assert_string_equal(e.message, "domain t1 is stopped: cannot pause");
        assert_int_equal(lifecycle_destroy(fx.m, d, &e), OUTCOME_INVALID_STATE);
        assert_int_equal(lifecycle_start(fx.m, d, NULL, NULL, &e), 0);
        assert_int_equal(d->state, DOMAIN_STARTING);
        assert_int_equal(lifecycle_start(fx.m, d, NULL, NULL, &e), OUTCOME_INVALID_STATE);
        run_until("t1", DOMAIN_RUNNING);
        assert_true(d->has_domid);
        assert_non_null(d->running_config);
        assert_int_equal(lifecycle_pause(fx.m, d, &e), 0);
        assert_int_equal(d->state, DOMAIN_PAUSED);
        assert_int_equal(lifecycle_pause(fx.m, d, &e), OUTCOME_INVALID_STATE);
        assert_int_equal(lifecycle_set_memory(fx.m, d, 96 * 1024, &e), 0);
        assert_int_equal(lifecycle_set_memory(fx.m, d, 3ULL << 20, &e), OUTCOME_INVALID_ARGUMENT);
        assert_non_null(strstr(e.message, "its maxmem: mem-max raises it"));
        assert_int_equal(lifecycle_unpause(fx.m, d, &e), 0);
        assert_int_equal(d->state, DOMAIN_RUNNING);
        assert_int_equal(lifecycle_destroy(fx.m, d, &e), 0);
        assert_int_equal(d->state, DOMAIN_STOPPED);
        assert_false(d->has_domid);
}

static void test_crash_restart_and_throttle(void **state)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d;
        uint32_t first;

        (void)state;
        write_conf("t2", "on_crash = \"restart\"\nrestart {\n burst = 2\n interval = 60\n}");
        manager_start();
        d = dom("t2");
        run_until("t2", DOMAIN_RUNNING);
        first = d->domid;
        for (unsigned i = 1; i <= 2; i++) {
                guest("t2", HV_GUEST_CRASH);
                run_until("t2", DOMAIN_STARTING);
                run_until("t2", DOMAIN_RUNNING);
                assert_int_equal(d->restart_count, i);
                assert_int_equal(d->shutdown_reason, SHUTDOWN_REASON_CRASH);
        }
        assert_int_not_equal(d->domid, first);
        /* The third crash within the window trips the throttle. */
        guest("t2", HV_GUEST_CRASH);
        run_until("t2", DOMAIN_FAILED);
        assert_false(d->has_domid);
        assert_non_null(strstr(d->failure, "restarted 2 times within 60 s"));
        /* A person's start resets the window; a new window admits two more. */
        assert_int_equal(lifecycle_start(fx.m, d, NULL, NULL, &e), 0);
        run_until("t2", DOMAIN_RUNNING);
        guest("t2", HV_GUEST_CRASH);
        run_until("t2", DOMAIN_STARTING);
        run_until("t2", DOMAIN_RUNNING);
        fx.now += 61; /* the window is over */
        guest("t2", HV_GUEST_CRASH);
        run_until("t2", DOMAIN_STARTING);
        run_until("t2", DOMAIN_RUNNING);
        guest("t2", HV_GUEST_CRASH);
        run_until("t2", DOMAIN_STARTING);
        run_until("t2", DOMAIN_RUNNING);
        assert_int_equal(d->window_count, 2);
}

static void test_person_reboot_not_counted(void **state)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d;

        (void)state;
        write_conf("t3", "restart {\n burst = 1\n interval = 600\n}");
        manager_start();
        d = dom("t3");
        run_until("t3", DOMAIN_RUNNING);
        for (unsigned i = 1; i <= 4; i++) {
                uint32_t before = d->domid;

                assert_int_equal(lifecycle_shutdown(fx.m, d, true, 0, &e), 0);
                assert_int_equal(d->state, DOMAIN_SHUTTING_DOWN);
                for (int j = 0; j < 200 && !(d->state == DOMAIN_RUNNING && d->domid != before); j++)
                        assert_true(sd_event_run(fx.m->event, 50000) >= 0);
                assert_int_equal(d->state, DOMAIN_RUNNING);
                assert_int_equal(d->restart_count, i);
        }
        assert_int_equal(d->window_count, 0);
        /* A guest-initiated reboot counts: burst 1 admits one, the second trips. */
        guest("t3", HV_GUEST_REBOOT);
        run_until("t3", DOMAIN_STARTING);
        run_until("t3", DOMAIN_RUNNING);
        guest("t3", HV_GUEST_REBOOT);
        run_until("t3", DOMAIN_FAILED);
}

static void test_backoff_waits_in_its_own_state(void **state)
{
        struct domain *d;

        (void)state;
        write_conf("t4", "on_crash = \"restart\"\nrestart {\n delay = 1\n}");
        manager_start();
        d = dom("t4");
        run_until("t4", DOMAIN_RUNNING);
        guest("t4", HV_GUEST_CRASH);
        run_until("t4", DOMAIN_RESTART_WAIT);
        assert_int_equal(d->restart_due, fx.now + 1);
        assert_false(d->has_domid);
        /* The daemon goes away while the restart waits; the next one carries it out. */
        manager_stop();
        manager_start();
        d = dom("t4");
        assert_int_equal(d->state, DOMAIN_RESTART_WAIT);
        assert_int_equal(d->restart_count, 1);
        run_until("t4", DOMAIN_RUNNING);
}

static void test_adoption_by_a_new_daemon(void **state)
{
        struct domain *d;
        uint32_t domid;
        uint64_t started;

        (void)state;
        write_conf("t5", "on_crash = \"restart\"");
        write_conf("t6", "on_crash = \"preserve\"");
        manager_start();
        run_until("t5", DOMAIN_RUNNING);
        run_until("t6", DOMAIN_RUNNING);
        guest("t5", HV_GUEST_CRASH);
        run_until("t5", DOMAIN_STARTING);
        run_until("t5", DOMAIN_RUNNING);
        guest("t6", HV_GUEST_CRASH);
        run_until("t6", DOMAIN_PRESERVED);
        domid = dom("t5")->domid;
        started = dom("t5")->started_at_usec;
        manager_stop();
        fx.now += 5;
        manager_start();
        d = dom("t5");
        assert_int_equal(d->state, DOMAIN_RUNNING);
        assert_int_equal(d->domid, domid);
        assert_int_equal(d->restart_count, 1);
        assert_int_equal(d->started_at_usec, started); /* uptime survives */
        assert_non_null(d->running_config);
        /* The preserved one stays preserved: its action is not applied again. */
        assert_int_equal(dom("t6")->state, DOMAIN_PRESERVED);
        run_for(200);
        assert_int_equal(dom("t6")->state, DOMAIN_PRESERVED);
}

static void test_no_second_live_copy(void **state)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct builder_images img = BUILDER_IMAGES_INIT;
        _cleanup_free_ char *err = NULL;
        struct builder_domain bd;
        struct domain *d;

        (void)state;
        write_conf("t7", "autostart = false");
        manager_start();
        d = dom("t7");
        /* Someone else (xl, say) runs an instance with the domain's uuid. */
        img.kernel_fd = open(d->config->kernel, O_RDONLY | O_CLOEXEC);
        assert_true(img.kernel_fd >= 0);
        assert_int_equal(builder_create(fx.m->builder, d->config, &img, &bd, &err), 0);
        close(img.kernel_fd);
        assert_int_equal(lifecycle_start(fx.m, d, NULL, NULL, &e), OUTCOME_EXISTS);
        assert_non_null(strstr(e.message, "already held by domid"));
        assert_int_equal(d->state, DOMAIN_STOPPED);
        /* Autostart has no person to tell: the build child refuses, and it ends failed. */
        lifecycle_autostart(fx.m, d);
        run_until("t7", DOMAIN_FAILED);
        assert_non_null(strstr(d->failure, "not building a second copy"));
        assert_int_equal(builder_destroy(fx.m->builder, bd.domid, &err), 0);
}

static void test_shutdown_timeout_is_forced(void **state)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        struct domain *d;

        (void)state;
        write_conf("t8", "shutdown_timeout = 1\nsim {\n on_shutdown_request = \"ignore\"\n}");
        manager_start();
        d = dom("t8");
        run_until("t8", DOMAIN_RUNNING);
        assert_int_equal(lifecycle_shutdown(fx.m, d, false, 0, &e), 0);
        assert_int_equal(d->state, DOMAIN_SHUTTING_DOWN);
        run_until("t8", DOMAIN_STOPPED);
        assert_int_equal(d->shutdown_reason, SHUTDOWN_REASON_POWEROFF);
}

static void test_dead_instances_and_waits(void **state)
{
        _cleanup_(sup_error_done) struct sup_error e = SUP_ERROR_INIT;
        _cleanup_free_ char *err = NULL;
        struct domain *d;
        uint32_t domid;

        (void)state;
        write_conf("t9", "on_crash = \"preserve\"\nmaxvcpus = 2");
        write_conf("t10", "on_crash = \"restart\"\nrestart {\n delay = 30\n}");
        manager_start();
        run_until("t9", DOMAIN_RUNNING);
        run_until("t10", DOMAIN_RUNNING);
        d = dom("t9");
        assert_int_equal(lifecycle_set_vcpus(fx.m, d, 2, &e), 0);
        assert_int_equal(lifecycle_set_vcpus(fx.m, d, 3, &e), OUTCOME_INVALID_ARGUMENT);
        /* preserved: kept dead; a start destroys it first and builds anew. */
        guest("t9", HV_GUEST_CRASH);
        run_until("t9", DOMAIN_PRESERVED);
        domid = d->domid;
        assert_int_equal(lifecycle_set_memory(fx.m, d, 96 * 1024, &e), OUTCOME_INVALID_STATE);
        assert_int_equal(lifecycle_start(fx.m, d, NULL, NULL, &e), 0);
        run_until("t9", DOMAIN_RUNNING);
        assert_int_not_equal(d->domid, domid);
        /* preserved, then destroyed by a person: stopped. */
        guest("t9", HV_GUEST_CRASH);
        run_until("t9", DOMAIN_PRESERVED);
        assert_int_equal(lifecycle_destroy(fx.m, d, &e), 0);
        assert_int_equal(d->state, DOMAIN_STOPPED);
        assert_false(d->has_domid);
        /* restart-wait, destroyed by a person: the restart is called off. */
        d = dom("t10");
        guest("t10", HV_GUEST_CRASH);
        run_until("t10", DOMAIN_RESTART_WAIT);
        assert_non_null(d->timer);
        assert_int_equal(lifecycle_destroy(fx.m, d, &e), 0);
        assert_int_equal(d->state, DOMAIN_STOPPED);
        assert_null(d->timer);
        run_for(200);
        assert_int_equal(d->state, DOMAIN_STOPPED);
}

static void test_gone_and_dying_behind_our_back(void **state)
{
        _cleanup_free_ char *err = NULL;
        struct domain *d;

        (void)state;
        write_conf("t11", "on_crash = \"restart\"");
        write_conf("t12", "on_crash = \"restart\"");
        manager_start();
        run_until("t11", DOMAIN_RUNNING);
        run_until("t12", DOMAIN_RUNNING);
        /* xl destroy: nothing to apply, only to clean up. */
        d = dom("t11");
        assert_int_equal(builder_destroy(fx.m->builder, d->domid, &err), 0);
        run_until("t11", DOMAIN_STOPPED);
        assert_false(d->has_domid);
        assert_int_equal(d->restart_count, 0);
        /* A zombie stays listed as dying after its destroy: dying, then gone. */
        d = dom("t12");
        guest("t12", HV_GUEST_ZOMBIE);
        assert_int_equal(builder_destroy(fx.m->builder, d->domid, &err), 0);
        run_until("t12", DOMAIN_DYING);
        run_until("t12", DOMAIN_STOPPED);
        assert_int_equal(d->restart_count, 0);
}

/* A daemon killed while it kept a rename-restart instance: the next one leaves nothing half-kept.
 */
static void test_half_kept_instance_removed(void **state)
{
        struct builder_options o = { .kind = BUILDER_SIM, .sim_dir = fx.dir };
        _cleanup_free_ char *err = NULL;
        struct layout_tool_state st;
        struct builder *b = NULL;
        struct layout *l = NULL;
        uint8_t uuid[16], kept[16];
        uint32_t domid, holder = 0;

        (void)state;
        write_conf("t13", "on_crash = \"rename-restart\"");
        manager_start();
        run_until("t13", DOMAIN_RUNNING);
        domid = dom("t13")->domid;
        memcpy(uuid, dom("t13")->uuid, 16);
        manager_stop();
        /* What a kill -9 right after xc_domain_sethandle leaves: the record marks the restart. */
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(layout_open(&l, &err), 0);
        assert_int_equal(builder_shutdown(b, domid, SHUTDOWN_REASON_CRASH, &err), 0);
        lifecycle_kept_uuid(uuid, domid, kept);
        assert_int_equal(builder_set_handle(b, domid, kept, &err), 0);
        assert_int_equal(layout_state_read(l, uuid, &st, &err), 0);
        st.build_in_progress = true;
        strcpy(st.state, "starting");
        assert_int_equal(layout_state_write(l, uuid, &st, &err), 0);
        manager_start();
        run_until("t13", DOMAIN_RUNNING);
        assert_int_not_equal(dom("t13")->domid, domid);
        assert_int_equal(builder_find_live(b, kept, &holder, &err), 0);
        assert_null(manager_find_domain(fx.m, "t13-1"));
        layout_close(l);
        builder_close(b);
}

/*
 * What a daemon killed mid-migration leaves, two live instances of t14's uuid (the twin's handle
 * set to it) and t14's record marking the migration, committed or not: the next daemon keeps
 * exactly one, the incoming one (renamed t14) after the commit, else the source.
 */
static void interrupted_migration(bool committed)
{
        struct builder_options o = { .kind = BUILDER_SIM, .sim_dir = fx.dir };
        _cleanup_free_ char *err = NULL, *name = NULL, *path = NULL;
        struct layout_tool_state st;
        struct builder *b = NULL;
        struct layout *l = NULL;
        struct xs_handle *xs;
        uint32_t source, incoming, holder = 0, left = 0;
        uint8_t uuid[16], twin[16];
        unsigned len = 0;

        write_conf("t14", NULL);
        write_conf("t14twin", NULL);
        manager_start();
        run_until("t14", DOMAIN_RUNNING);
        run_until("t14twin", DOMAIN_RUNNING);
        source = dom("t14")->domid;
        incoming = dom("t14twin")->domid;
        memcpy(uuid, dom("t14")->uuid, 16);
        memcpy(twin, dom("t14twin")->uuid, 16);
        manager_stop();
        assert_int_equal(builder_open(&o, &b, &err), 0);
        assert_int_equal(layout_open(&l, &err), 0);
        assert_int_equal(builder_set_handle(b, incoming, uuid, &err), 0);
        assert_int_equal(layout_state_remove(l, twin, &err), 0);
        assert_int_equal(asprintf(&path, "%s/t14twin.conf", fx.conf) > 0, true);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(layout_state_read(l, uuid, &st, &err), 0);
        strcpy(st.state, "migrating");
        st.migrate_to = incoming;
        st.migrate_committed = committed;
        assert_int_equal(layout_state_write(l, uuid, &st, &err), 0);
        manager_start();
        run_until("t14", DOMAIN_RUNNING);
        assert_int_equal(dom("t14")->domid, committed ? incoming : source);
        assert_int_equal(builder_find_live(b, uuid, &holder, &err), 1);
        assert_int_equal(holder, committed ? incoming : source);
        assert_int_equal(builder_find_live(b, twin, &left, &err), 0);
        /* The one left runs under the domain's name; the record no longer marks a migration. */
        free(path);
        assert_int_equal(asprintf(&path, "/local/domain/%u/name", holder) > 0, true);
        xs = xs_open(0);
        assert_non_null(xs);
        name = xs_read(xs, XBT_NULL, path, &len);
        xs_close(xs);
        assert_non_null(name);
        assert_string_equal(name, "t14");
        assert_int_equal(layout_state_read(l, uuid, &st, &err), 0);
        assert_string_equal(st.state, "running");
        assert_int_equal(st.migrate_to, 0);
        layout_close(l);
        builder_close(b);
}

static void test_migration_committed_keeps_incoming(void **state)
{
        (void)state;
        interrupted_migration(true);
}

static void test_migration_uncommitted_keeps_source(void **state)
{
        (void)state;
        interrupted_migration(false);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table_matches_header),
                cmocka_unit_test_setup_teardown(test_control_follows_the_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_restart_and_throttle, setup, teardown),
                cmocka_unit_test_setup_teardown(test_person_reboot_not_counted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_backoff_waits_in_its_own_state, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_adoption_by_a_new_daemon, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_second_live_copy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shutdown_timeout_is_forced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dead_instances_and_waits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gone_and_dying_behind_our_back, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_half_kept_instance_removed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_migration_committed_keeps_incoming, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_migration_uncommitted_keeps_source, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
