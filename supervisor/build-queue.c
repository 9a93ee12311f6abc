/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/creds.h"
#include "common/debug.h"
#include "common/error.h"
#include "common/hash.h"
#include "common/macros.h"
#include "layout/layout.h"
#include "layout/suspend.h"
#include "supervisor/child.h"
#include "supervisor/image.h"
#include "supervisor/kernel-cache.h"

#include "supervisor/build-queue.h"

#define BUILD_JOBS_CAP 4

/* How long a child retries a conflicting transaction: a death storm's teardowns pass by then. */
#define BUILD_XENSTORE_PATIENCE_MS 30000

/* "%p" of an owner: its key in by_owner. */
#define OWNER_KEY_MAX (2 * sizeof(void *) + 3)

struct build_job {
        struct build_queue *queue;
        struct build_job *next;
        void *owner;
        char owner_key[OWNER_KEY_MAX];
        struct hentry by_owner;
        struct domain_config *cfg;      /* our copy: a reload may replace the owner's meanwhile */
        char name[DOMAIN_NAME_MAX + 1]; /* the name its layout publishes */
        struct creds files_as;          /* whose rights open cfg's image files and targets */
        int image_fd; /* a restore: the saved image, at its stream; -1 for a build */
        struct layout_guest_features features; /* a restore: what the guest had written */
        bool incoming;         /* a migration's incoming instance: image_fd is at the header */
        uint32_t source_domid; /* ...and the one other instance of cfg's uuid that may run */
        int kernel_fill_fd;    /* a build on a miss of the kernel cache fills it; -1 none */
        uint64_t queued_ms;    /* CLOCK_MONOTONIC when added */
        uint64_t started_ms;   /* ...and when its child started */
        struct child child;    /* pid 0 while waiting for a slot */
};

struct build_queue {
        sd_event *event;
        struct builder_options opts;
        char *sim_dir;
        unsigned max_jobs;
        unsigned running;
        build_done_fn done;
        void *userdata;
        unsigned device_timeout_ms;
        char default_bridge[IFNAME_MAX + 1];
        char *lock_path;
        struct kernel_cache *kernels; /* NULL: every build inflates its kernel */
        struct build_job *jobs;       /* FIFO: running and waiting ones, oldest first */
        struct build_job **jobs_tail; /* ...and the next pointer of its last: O(1) appends */
        struct htable by_owner;       /* ...and by owner, at most one each */
};

unsigned build_queue_default_jobs(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        /*
         * One more than the CPUs: a build spends much of its time waiting on xenstored and the
         * hypervisor, and with the kernel cache it holds a few MB of its own, not the kernel.
         */
        n = n < 1 ? 2 : n + 1;
        return n > BUILD_JOBS_CAP ? BUILD_JOBS_CAP : (unsigned)n;
}

unsigned build_queue_running(const struct build_queue *q)
{
        return q->running;
}

static struct build_job *build_job_free(struct build_job *j)
{
        if (!j)
                return NULL;
        child_stop(&j->child);
        closep(&j->image_fd);
        closep(&j->kernel_fill_fd);
        config_free(j->cfg);
        free(j);
        return NULL;
}

static void build_queue_unlink(struct build_queue *q, struct build_job *j)
{
        ht_remove(&q->by_owner, &j->by_owner);
        for (struct build_job **p = &q->jobs; *p; p = &(*p)->next)
                if (*p == j) {
                        *p = j->next;
                        if (q->jobs_tail == &j->next)
                                q->jobs_tail = p;
                        return;
                }
}

/* The job of owner, queued or running; NULL if none. */
static struct build_job *build_queue_find(const struct build_queue *q, const void *owner)
{
        char key[OWNER_KEY_MAX];
        struct hentry *e;

        snprintf(key, sizeof(key), "%p", owner);
        e = ht_find(&q->by_owner, key);
        return e ? container_of(e, struct build_job, by_owner) : NULL;
}

static void builder_images_close(struct builder_images *img)
{
        if (img->kernel_fd >= 0)
                close(img->kernel_fd);
        if (img->ramdisk_fd >= 0)
                close(img->ramdisk_fd);
        *img = (struct builder_images)BUILDER_IMAGES_INIT;
}

/* Open cfg's kernel and ramdisk with as's rights: the builder reads what its owner may read. */
static int build_images_open(const struct domain_config *cfg, const struct creds *as,
                             struct builder_images *img, char **err_r)
{
        int r;

        *img = (struct builder_images)BUILDER_IMAGES_INIT;
        if (cfg->kernel) {
                r = img->kernel_fd = creds_open_file(as, "kernel", cfg->kernel, err_r);
                if (r < 0)
                        return r;
        }
        if (cfg->ramdisk && cfg->ramdisk[0]) {
                r = img->ramdisk_fd = creds_open_file(as, "ramdisk", cfg->ramdisk, err_r);
                if (r < 0) {
                        builder_images_close(img);
                        return r;
                }
        }
        return 0;
}

/*
 * In the child, after the create: the layout, the introduce and the devices, so that the domain
 * is ready to unpause. On failure everything is undone, the domain included.
 */
static int build_child_finish(const struct build_queue *q, struct builder *b,
                              const struct build_job *j, struct build_result *res, char **err_r)
{
        const struct domain_config *cfg = j->cfg;
        const struct builder_domain *bd = &res->domain;
        struct layout_domain ld = {
                .cfg = cfg,
                .name = j->name,
                .domid = bd->domid,
                .store_port = bd->store_port,
                .store_mfn = bd->store_mfn,
                .console_port = bd->console_port,
                .console_mfn = bd->console_mfn,
                .keep_vm = j->incoming,
        };
        struct attach_options ao = {
                .files_as = &j->files_as,
                .timeout_ms = q->device_timeout_ms,
                .default_bridge = q->default_bridge,
                .incoming = j->incoming,
        };
        struct layout *l = NULL;
        uint64_t t0 = debug_now_ms();
        int r;

        r = layout_open(&l, err_r);
        if (r >= 0 && q->lock_path)
                r = layout_serialize_transactions(l, q->lock_path, BUILD_XENSTORE_PATIENCE_MS,
                                                  err_r);
        if (r >= 0)
                r = layout_write_domain(l, &ld, err_r);
        /* Linux writes them once, at its first boot: a restored guest would look featureless. */
        if (r >= 0 && j->image_fd >= 0)
                r = layout_write_guest_features(l, bd->domid, &j->features, err_r);
        res->layout_ms = (uint32_t)(debug_now_ms() - t0);
        t0 = debug_now_ms();
        if (r >= 0)
                r = builder_introduce(b, bd, err_r);
        if (r >= 0)
                r = attach_all(b, l, cfg->uuid, bd->domid, cfg, &ao, err_r);
        res->devices_ms = (uint32_t)(debug_now_ms() - t0);
        if (r < 0) {
                /* attach_all() took down what it attached; now the layout and the domain. */
                if (l) {
                        (void)layout_remove_local(l, bd->domid, NULL);
                        if (!j->incoming)
                                (void)layout_remove_vm(l, cfg->uuid, NULL);
                }
                (void)builder_destroy(b, bd->domid, NULL);
        }
        layout_close(l);
        return r;
}

/*
 * In the child, for an incoming instance: the header the source's save writes first, which must
 * be of this domain; its guest features are the ones the layout writes.
 */
static int build_child_read_header(struct build_job *j, char **err_r)
{
        _cleanup_(image_meta_done) struct image_meta meta = { 0 };
        int r = image_read_start(j->image_fd, &meta, err_r);

        if (r < 0)
                return r;
        if (memcmp(meta.uuid, j->cfg->uuid, 16) != 0)
                return err_setf(err_r, -EBADMSG, "the stream is of another domain (%s)", meta.name);
        j->features = meta.features;
        return 0;
}

/* In the child: the domain from the image's stream, its trailer checked; nothing left on failure.
 */
static int build_child_restore(struct builder *b, struct build_job *j, struct builder_domain *out,
                               char **err_r)
{
        int r = j->incoming ? build_child_read_header(j, err_r) : 0;

        if (r < 0)
                return r;
        r = builder_restore(b, j->cfg, j->image_fd, out, err_r);

        if (r < 0)
                return r;
        r = image_read_finish(j->image_fd, err_r);
        if (r < 0)
                (void)builder_destroy(b, out->domid, NULL);
        return r;
}

/*
 * The live domain that already holds cfg's uuid (1 and *holder_r), but the job's source when it
 * is an incoming instance; 0 if none. An error is left to the create.
 */
static int uuid_holder(struct builder *b, const struct build_job *j, uint32_t *holder_r)
{
        _cleanup_free_ struct builder_domain_info *infos = NULL;
        size_t n = 0;

        if (!j->incoming)
                return builder_find_live(b, j->cfg->uuid, holder_r, NULL);
        if (builder_list(b, &infos, &n, NULL) < 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                if (infos[i].domid != 0 && infos[i].domid != j->source_domid && !infos[i].dying &&
                    memcmp(infos[i].handle, j->cfg->uuid, 16) == 0) {
                        *holder_r = infos[i].domid;
                        return 1;
                }
        return 0;
}

/*
 * In the child, once the kernel is open: the cache's image of that very file (the fork gave the
 * child the daemon's descriptors), else the memfd to fill with it.
 */
static void build_child_find_kernel(const struct build_job *j, struct builder_images *img,
                                    struct build_result *res)
{
        const struct kernel_cache *kernels = j->queue->kernels;
        struct stat st;

        if (!kernels || img->kernel_fd < 0 || fstat(img->kernel_fd, &st) < 0)
                return;
        kernel_cache_key_of(&st, &res->kernel_key);
        img->kernel_cached_fd = kernel_cache_find(kernels, &res->kernel_key);
        if (img->kernel_cached_fd >= 0)
                res->kernel_cached = true;
        else
                img->kernel_fill_fd = j->kernel_fill_fd;
}

/* In the child: build, write the one result record, exit without touching the daemon's state. */
static int build_child_work(void *arg, int fd)
{
        struct build_job *j = arg;
        const struct build_queue *q = j->queue;
        const struct domain_config *cfg = j->cfg;
        struct builder_images img = BUILDER_IMAGES_INIT;
        struct build_result res = { 0 };
        struct builder *b = NULL;
        char *err = NULL;
        uint64_t t0;

        /* A restore loads no kernel: the image holds the guest's memory. */
        if (j->image_fd < 0)
                res.r = build_images_open(cfg, &j->files_as, &img, &err);
        res.denied = res.r == -EACCES || res.r == -EPERM;
        /* A handle of our own: libxc's hypercall buffers are not inherited across fork. */
        if (res.r >= 0)
                res.r = builder_open(&q->opts, &b, &err);
        if (res.r >= 0) {
                uint32_t holder = 0;

                /* The last guard before a create: an error here is left to the create. */
                if (uuid_holder(b, j, &holder) > 0) {
                        char u[37];

                        res.r = -EEXIST;
                        res.duplicate = true;
                        free(err);
                        err = NULL;
                        snprintf(res.message, sizeof(res.message),
                                 "uuid %s is already held by domid %u; not building a second copy",
                                 uuid_to_string(cfg->uuid, u), holder);
                }
        }
        t0 = debug_now_ms();
        if (res.r >= 0 && j->image_fd >= 0)
                res.r = build_child_restore(b, j, &res.domain, &err);
        else if (res.r >= 0) {
                build_child_find_kernel(j, &img, &res);
                res.r = builder_create(b, cfg, &img, &res.domain, &err);
                res.kernel_filled = res.r >= 0 && res.domain.kernel_filled;
        }
        res.image_ms = (uint32_t)(debug_now_ms() - t0);
        builder_images_close(&img);
        if (res.r >= 0) {
                res.r = build_child_finish(q, b, j, &res, &err);
                /* A target its owner may not open is theirs to fix, not a retry's. */
                res.denied = res.r == -EACCES || res.r == -EPERM;
        }
        if (res.r < 0 && !res.duplicate)
                snprintf(res.message, sizeof(res.message), "%s", err ? err : strerror(-res.r));
        builder_close(b);
        free(err);
        return child_write_result(fd, &res, sizeof(res)) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static void build_queue_start_waiting(struct build_queue *q);

/* What the child reported, or a message for a child that died without a word. */
static void build_job_read_result(struct build_job *j, const siginfo_t *si,
                                  struct build_result *res)
{
        char how[64];

        if (child_read_result(&j->child, si, res, sizeof(*res), how) == 0) {
                res->message[sizeof(res->message) - 1] = '\0';
                return;
        }
        *res = (struct build_result){ .r = -EIO, .incomplete = true };
        snprintf(res->message, sizeof(res->message), "the build process %s", how);
}

/* After the child: a hit of the kernel cache, or the image it filled on a miss. */
static void build_job_keep_kernel(struct build_queue *q, struct build_job *j,
                                  const struct build_result *res)
{
        if (!q->kernels || res->incomplete)
                return;
        if (res->kernel_cached)
                kernel_cache_used(q->kernels, &res->kernel_key);
        else if (res->kernel_filled && j->kernel_fill_fd >= 0)
                (void)kernel_cache_add(q->kernels, &res->kernel_key, TAKE_FD(j->kernel_fill_fd));
}

static int build_job_on_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct build_job *j = userdata;
        struct build_queue *q = j->queue;
        struct build_result res;

        (void)s;
        build_job_read_result(j, si, &res);
        res.wait_ms = (uint32_t)(j->started_ms - j->queued_ms);
        build_job_keep_kernel(q, j, &res);
        q->running--;
        build_queue_unlink(q, j);
        q->done(j->owner, j->cfg, &res, q->userdata);
        build_job_free(j);
        build_queue_start_waiting(q);
        return 0;
}

static int build_job_spawn(struct build_queue *q, struct build_job *j)
{
        int r;

        /* Made before the fork, so the pages the child writes stay the daemon's to keep. */
        if (q->kernels && j->image_fd < 0 && j->cfg->kernel) {
                r = j->kernel_fill_fd = kernel_cache_new_fill();
                if (r < 0)
                        return r;
        }
        j->started_ms = debug_now_ms();
        r = child_start(&j->child, q->event, build_child_work, j, build_job_on_exit, j);
        if (r < 0)
                return r;
        q->running++;
        return 0;
}

static struct build_job *build_queue_first_waiting(const struct build_queue *q)
{
        struct build_job *j = q->jobs;

        while (j && j->child.pid > 0)
                j = j->next;
        return j;
}

/* Fill the free slots from the head of the queue; a job that cannot start reports failure. */
static void build_queue_start_waiting(struct build_queue *q)
{
        struct build_job *j;

        /* From the head each time: a done() callback may add or cancel jobs. */
        while (q->running < q->max_jobs && (j = build_queue_first_waiting(q))) {
                /* A child killed before it was watched may have begun a domain. */
                struct build_result res = { .incomplete = true };

                res.r = build_job_spawn(q, j);
                if (res.r >= 0)
                        continue;
                snprintf(res.message, sizeof(res.message), "cannot start the build process: %s",
                         strerror(-res.r));
                build_queue_unlink(q, j);
                q->done(j->owner, j->cfg, &res, q->userdata);
                build_job_free(j);
        }
}

/* Queue a job: a build (image_fd -1) or a restore from image_fd; *ret_r the job. */
static int build_queue_add_job(struct build_queue *q, void *owner, const struct domain_config *cfg,
                               const char *name, const struct creds *files_as, int image_fd,
                               const struct layout_guest_features *features,
                               struct build_job **ret_r)
{
        struct build_job *j;

        if (build_queue_find(q, owner))
                return -EBUSY;
        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->queue = q;
        j->owner = owner;
        snprintf(j->owner_key, sizeof(j->owner_key), "%p", owner);
        j->child = (struct child)CHILD_INIT;
        j->image_fd = -1;
        j->kernel_fill_fd = -1;
        j->queued_ms = debug_now_ms();
        if (image_fd >= 0) {
                j->image_fd = fcntl(image_fd, F_DUPFD_CLOEXEC, 3);
                if (j->image_fd < 0) {
                        free(j);
                        return -errno;
                }
                if (features)
                        j->features = *features;
        }
        j->files_as = *files_as;
        snprintf(j->name, sizeof(j->name), "%s", name ? name : cfg->name);
        j->cfg = config_dup(cfg);
        if (!j->cfg) {
                build_job_free(j);
                return -ENOMEM;
        }
        *q->jobs_tail = j;
        q->jobs_tail = &j->next;
        j->by_owner.key = j->owner_key;
        ht_insert(&q->by_owner, &j->by_owner);
        if (ret_r)
                *ret_r = j;
        return 0;
}

int build_queue_add(struct build_queue *q, void *owner, const struct domain_config *cfg,
                    const char *name, const struct creds *files_as)
{
        int r = build_queue_add_job(q, owner, cfg, name, files_as, -1, NULL, NULL);

        if (r >= 0)
                build_queue_start_waiting(q);
        return r;
}

int build_queue_add_restore(struct build_queue *q, void *owner, const struct domain_config *cfg,
                            const char *name, const struct creds *files_as, int image_fd,
                            const struct layout_guest_features *features)
{
        int r = build_queue_add_job(q, owner, cfg, name, files_as, image_fd, features, NULL);

        if (r >= 0)
                build_queue_start_waiting(q);
        return r;
}

int build_queue_add_incoming(struct build_queue *q, void *owner, const struct domain_config *cfg,
                             const char *name, const struct creds *files_as, int stream_fd,
                             uint32_t source_domid)
{
        struct build_job *j = NULL;
        int r = build_queue_add_job(q, owner, cfg, name, files_as, stream_fd, NULL, &j);

        if (r < 0)
                return r;
        j->incoming = true;
        j->source_domid = source_domid;
        build_queue_start_waiting(q);
        return 0;
}

int build_queue_abort(struct build_queue *q, void *owner)
{
        struct build_job *j = build_queue_find(q, owner);

        if (!j)
                return -ENOENT;
        if (j->child.pid > 0)
                q->running--;
        build_queue_unlink(q, j);
        build_job_free(j);
        build_queue_start_waiting(q);
        return 0;
}

int build_queue_restore_progress(const struct build_queue *q, const void *owner, uint64_t *done,
                                 uint64_t *total)
{
        const struct build_job *j = build_queue_find(q, owner);
        struct stat st;
        off_t at;

        if (!j || j->image_fd < 0)
                return -ENOENT;
        /* The child reads through the same open file: its offset is ours to read. */
        at = lseek(j->image_fd, 0, SEEK_CUR);
        *done = at > 0 ? (uint64_t)at : 0;
        *total = fstat(j->image_fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
        return 0;
}

int build_queue_set_devices(struct build_queue *q, unsigned timeout_ms, const char *default_bridge)
{
        if (!ifname_is_valid(default_bridge))
                return -EINVAL;
        q->device_timeout_ms = timeout_ms;
        snprintf(q->default_bridge, sizeof(q->default_bridge), "%s", default_bridge);
        return 0;
}

int build_queue_set_lock(struct build_queue *q, const char *lock_path)
{
        char *copy = NULL;

        if (lock_path && !(copy = strdup(lock_path)))
                return -ENOMEM;
        free(q->lock_path);
        q->lock_path = copy;
        return 0;
}

int build_queue_set_kernel_cache(struct build_queue *q, uint64_t max_bytes)
{
        struct kernel_cache *c = NULL;
        int r = max_bytes > 0 ? kernel_cache_new(max_bytes, &c) : 0;

        if (r < 0)
                return r;
        kernel_cache_free(q->kernels);
        q->kernels = c;
        return 0;
}

bool build_queue_kernel_cache_stats(const struct build_queue *q, struct kernel_cache_stats *s)
{
        if (!q->kernels)
                return false;
        kernel_cache_get_stats(q->kernels, s);
        return true;
}

int build_queue_cancel(struct build_queue *q, void *owner)
{
        struct build_job *j = build_queue_find(q, owner);

        if (!j)
                return -ENOENT;
        if (j->child.pid > 0)
                return -EBUSY;
        build_queue_unlink(q, j);
        build_job_free(j);
        return 0;
}

int build_queue_new(sd_event *event, const struct builder_options *opts, unsigned max_jobs,
                    build_done_fn done, void *userdata, struct build_queue **ret)
{
        struct build_queue *q;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        if (ht_init(&q->by_owner) < 0) {
                free(q);
                return -ENOMEM;
        }
        if (opts->sim_dir) {
                q->sim_dir = strdup(opts->sim_dir);
                if (!q->sim_dir) {
                        ht_done(&q->by_owner);
                        free(q);
                        return -ENOMEM;
                }
        }
        q->jobs_tail = &q->jobs;
        q->event = sd_event_ref(event);
        q->opts = *opts;
        q->opts.sim_dir = q->sim_dir;
        q->max_jobs = max_jobs ? max_jobs : 1;
        q->done = done;
        q->userdata = userdata;
        q->device_timeout_ms = ATTACH_TIMEOUT_MS_DEFAULT;
        snprintf(q->default_bridge, sizeof(q->default_bridge), "xenbr0");
        *ret = q;
        return 0;
}

struct build_queue *build_queue_free(struct build_queue *q)
{
        if (!q)
                return NULL;
        while (q->jobs) {
                struct build_job *j = q->jobs;

                q->jobs = j->next;
                build_job_free(j);
        }
        sd_event_unref(q->event);
        kernel_cache_free(q->kernels);
        ht_done(&q->by_owner);
        free(q->sim_dir);
        free(q->lock_path);
        free(q);
        return NULL;
}
