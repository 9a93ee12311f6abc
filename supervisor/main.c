/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builders/builder.h"
#include "common/creds.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/parse.h"
#include "config/config.h"
#include "supervisor/kernel-cache.h"
#include "supervisor/log.h"
#include "supervisor/manager.h"

static void usage(FILE *f)
{
        fputs("Usage: xensupd [OPTIONS]\n"
              "       xensupd --check-config FILE...\n"
              "Supervise the Xen domains configured in a directory.\n\n"
              "  --hypervisor=xen|sim   real Xen, or the simulated host (default: xen when\n"
              "                         /proc/xen/capabilities exists, sim otherwise)\n"
              "  --config-dir DIR       domain configs, *.conf (default /etc/xensup/domains.d)\n"
              "  --state-dir DIR        where the config each domain was last built from is\n"
              "                         kept (default /var/lib/xensup; sim: SIM_DIR/state)\n"
              "  --sim-dir DIR          the simulated host's directory (default /run/xensup/sim)\n"
              "  --user                 use the session bus instead of the system bus\n"
              "  --no-bus               run without D-Bus\n"
              "  --stop-domains         on SIGTERM, shut the running domains down first\n"
              "  --admin-group GROUP    without polkit, members may call mutating D-Bus methods\n"
              "                         (default: root only)\n"
              "  --polkit=yes|no        ask polkit who may call mutating D-Bus methods (default\n"
              "                         yes; never on a session bus)\n"
              "  --build-jobs N         domain builds running at once, each in a child process\n"
              "                         (default: one more than the CPUs, at most 4)\n"
              "  --kernel-cache SIZE    keep guest kernels inflated for the next builds, in at\n"
              "                         most SIZE of memory (512M, 1G; default 256M; 0: none)\n"
              "  --device-timeout S     how long a disk's or vif's backend may take to come up\n"
              "                         (default 10)\n"
              "  --bridge NAME          the bridge of a vif whose entry names none (default\n"
              "                         xenbr0)\n"
              "  --save-timeout S       how long a guest being saved may take to acknowledge the\n"
              "                         suspend request, and then to suspend (default 60)\n"
              "  --save-dir DIR         where the host's shutdown saves domains, restored at its\n"
              "                         boot (default STATE_DIR/save)\n"
              "  --log-level=LEVEL      emerg, alert, crit, err, warning, notice, info (the\n"
              "                         default) or debug (each hypervisor call and XenStore\n"
              "                         transaction too), or 0 to 7\n"
              "  --check-config FILE... validate configs: print FILE: ok or the errors; exit 0/1\n"
              "  -h, --help             this text\n",
              f);
}

/* Validate each file as `nginx -t` does; 0 only if all are good. */
static int check_config(char **files, int n)
{
        int bad = 0;

        for (int i = 0; i < n; i++) {
                struct domain_config *c = NULL;
                _cleanup_free_ char *err = NULL;

                if (config_load_file(files[i], &c, &err) < 0) {
                        fprintf(stderr, "%s\n", err ? err : files[i]);
                        bad++;
                        continue;
                }
                printf("%s: ok\n", files[i]);
                config_free(c);
        }
        return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}

struct dump_file {
        const char *dir, *name;
        uid_t owner;
        int fd;
        char *err;
};

/* With the domain creator's rights: its directory, then a new file in it. */
static int dump_file_create(void *userdata)
{
        struct dump_file *f = userdata;
        int r;

        r = mkdir_p(f->dir, 0700);
        if (r < 0)
                return err_setf(&f->err, r, "%s: cannot create it: %s", f->dir, strerror(-r));
        r = f->fd = create_file_in_safe_dir(f->dir, f->name, 0600, f->owner, &f->err);
        return r < 0 ? r : 0;
}

/* With the same rights: what a failed dump began goes (never anything root alone could remove). */
static int dump_file_remove(void *userdata)
{
        const char *path = userdata;

        return unlink(path) < 0 ? -errno : 0;
}

/* The creator's uid and "gid,gid" groups, as dump_begin() passes them. */
static int parse_dump_creds(const char *uid_s, const char *groups, struct creds *c)
{
        unsigned uid;

        if (parse_uint(uid_s, UINT32_MAX - 1, &uid) < 0) {
                fprintf(stderr, "xensupd: --dump-core: bad uid '%s'\n", uid_s);
                return -EINVAL;
        }
        creds_from_ids(c, (uid_t)uid, NULL, 0);
        if (creds_groups_parse(c, groups) < 0) {
                fprintf(stderr, "xensupd: --dump-core: bad group list '%s'\n", groups);
                return -EINVAL;
        }
        return 0;
}

/*
 * The child of a coredump action: a process of its own, so the loop never blocks. The file is
 * made with the rights of the domain's creator (its directory is theirs to name), then the
 * core is written through the fd as root.
 */
static int dump_core(const struct builder_options *bo, char **args)
{
        struct builder *b = NULL;
        _cleanup_free_ char *err = NULL, *dir = strdup(args[1]);
        const char *path = args[1], *name = strrchr(path, '/');
        _cleanup_close_ int fd = -1;
        struct dump_file f = { .fd = -1 };
        struct creds as;
        char *end;
        unsigned long domid = strtoul(args[0], &end, 10);
        int r;

        if (*end || domid == 0 || domid >= DOMID_FIRST_RESERVED) {
                fprintf(stderr, "xensupd: --dump-core: bad domid '%s'\n", args[0]);
                return EXIT_FAILURE;
        }
        if (!dir || !name || name == path) {
                fprintf(stderr, "xensupd: --dump-core: '%s' is not DIR/NAME\n", path);
                return EXIT_FAILURE;
        }
        if (parse_dump_creds(args[2], args[3], &as) < 0)
                return EXIT_FAILURE;
        dir[name - path] = '\0';
        f.dir = dir;
        f.name = name + 1;
        f.owner = as.uid;
        /* Created new, in a directory nobody else can write, through no link. */
        r = creds_run(&as, dump_file_create, &f);
        fd = f.fd;
        err = f.err;
        if (r >= 0)
                r = builder_open(bo, &b, &err);
        if (r >= 0)
                r = builder_dumpcore(b, (uint32_t)domid, fd, &err);
        builder_close(b);
        /* Only a file we created, in a directory only its owner writes: nothing half-written. */
        if (r < 0 && fd >= 0)
                (void)creds_run(&as, dump_file_remove, (void *)path);
        if (r < 0) {
                fprintf(stderr, "xensupd: core dump of domid %lu to %s failed: %s\n", domid, path,
                        err ? err : strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* An option that takes one of two words: *second_r tells which; -EINVAL (said) for another. */
static int parse_either(const char *option, const char *arg, const char *first, const char *second,
                        bool *second_r)
{
        if (strcmp(arg, first) != 0 && strcmp(arg, second) != 0) {
                fprintf(stderr, "xensupd: %s: '%s' is not %s or %s\n", option, arg, first, second);
                return -EINVAL;
        }
        *second_r = strcmp(arg, second) == 0;
        return 0;
}

#define BUILD_JOBS_MAX     64
#define DEVICE_TIMEOUT_MAX 600
#define SAVE_TIMEOUT_MAX   3600

static int parse_build_jobs(const char *s, unsigned *ret)
{
        if (parse_uint(s, BUILD_JOBS_MAX, ret) < 0 || *ret < 1) {
                fprintf(stderr, "xensupd: --build-jobs: '%s' is not a number from 1 to %d\n", s,
                        BUILD_JOBS_MAX);
                return -EINVAL;
        }
        return 0;
}

/* --kernel-cache: a size, or 0 for no cache. */
static int parse_kernel_cache(const char *s, uint64_t *bytes_r)
{
        uint64_t kib;

        if (strcmp(s, "0") == 0) {
                *bytes_r = 0;
                return 0;
        }
        if (parse_size_kib(s, &kib) < 0 || kib > (UINT64_MAX >> 10)) {
                fprintf(stderr, "xensupd: --kernel-cache: '%s' is not a size: %s; or 0 for none\n",
                        s, PARSE_SIZE_SYNTAX);
                return -EINVAL;
        }
        *bytes_r = kib << 10;
        return 0;
}

/* A timeout option's seconds, 1 to max. */
static int parse_seconds(const char *option, const char *s, unsigned max, unsigned *ret)
{
        if (parse_uint(s, max, ret) < 0 || *ret < 1) {
                fprintf(stderr, "xensupd: %s: '%s' is not a number of seconds from 1 to %u\n",
                        option, s, max);
                return -EINVAL;
        }
        return 0;
}

static enum builder_kind default_hypervisor(void)
{
        return access("/proc/xen/capabilities", F_OK) == 0 ? BUILDER_XEN : BUILDER_SIM;
}

int main(int argc, char **argv)
{
        enum {
                ARG_HV = 0x100,
                ARG_CONFIG_DIR,
                ARG_STATE_DIR,
                ARG_SIM_DIR,
                ARG_USER,
                ARG_NO_BUS,
                ARG_STOP,
                ARG_GROUP,
                ARG_POLKIT,
                ARG_JOBS,
                ARG_KERNEL_CACHE,
                ARG_DEVICE_TIMEOUT,
                ARG_BRIDGE,
                ARG_SAVE_TIMEOUT,
                ARG_SAVE_DIR,
                ARG_CHECK,
                ARG_DUMP,
                ARG_LOG_LEVEL
        };
        static const struct option options[] = {
                { "hypervisor", required_argument, NULL, ARG_HV },
                { "config-dir", required_argument, NULL, ARG_CONFIG_DIR },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "sim-dir", required_argument, NULL, ARG_SIM_DIR },
                { "user", no_argument, NULL, ARG_USER },
                { "no-bus", no_argument, NULL, ARG_NO_BUS },
                { "stop-domains", no_argument, NULL, ARG_STOP },
                { "admin-group", required_argument, NULL, ARG_GROUP },
                { "polkit", required_argument, NULL, ARG_POLKIT },
                { "build-jobs", required_argument, NULL, ARG_JOBS },
                { "kernel-cache", required_argument, NULL, ARG_KERNEL_CACHE },
                { "device-timeout", required_argument, NULL, ARG_DEVICE_TIMEOUT },
                { "bridge", required_argument, NULL, ARG_BRIDGE },
                { "save-timeout", required_argument, NULL, ARG_SAVE_TIMEOUT },
                { "save-dir", required_argument, NULL, ARG_SAVE_DIR },
                { "check-config", no_argument, NULL, ARG_CHECK },
                { "dump-core", no_argument, NULL, ARG_DUMP },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct manager_options o = {
                .hypervisor = default_hypervisor(),
                .config_dir = "/etc/xensup/domains.d",

                .sim_dir = "/run/xensup/sim",
                .kernel_cache_bytes = KERNEL_CACHE_DEFAULT_BYTES,
        };
        struct builder_options bo;
        struct manager *m = NULL;
        _cleanup_free_ char *err = NULL;
        bool check = false, dump = false, second;
        int c, r, log_level = -1;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case ARG_HV:
                        if (parse_either("--hypervisor", optarg, "xen", "sim", &second) < 0)
                                return 2;
                        o.hypervisor = second ? BUILDER_SIM : BUILDER_XEN;
                        break;
                case ARG_CONFIG_DIR:
                        o.config_dir = optarg;
                        break;
                case ARG_STATE_DIR:
                        o.state_dir = optarg;
                        break;
                case ARG_SIM_DIR:
                        o.sim_dir = optarg;
                        break;
                case ARG_USER:
                        o.user_bus = true;
                        break;
                case ARG_NO_BUS:
                        o.no_bus = true;
                        break;
                case ARG_STOP:
                        o.stop_domains = true;
                        break;
                case ARG_GROUP:
                        o.admin_group = optarg;
                        break;
                case ARG_POLKIT:
                        if (parse_either("--polkit", optarg, "yes", "no", &second) < 0)
                                return 2;
                        o.no_polkit = second;
                        break;
                case ARG_JOBS:
                        if (parse_build_jobs(optarg, &o.build_jobs) < 0)
                                return 2;
                        break;
                case ARG_KERNEL_CACHE:
                        if (parse_kernel_cache(optarg, &o.kernel_cache_bytes) < 0)
                                return 2;
                        break;
                case ARG_DEVICE_TIMEOUT:
                        if (parse_seconds("--device-timeout", optarg, DEVICE_TIMEOUT_MAX,
                                          &o.device_timeout) < 0)
                                return 2;
                        break;
                case ARG_SAVE_TIMEOUT:
                        if (parse_seconds("--save-timeout", optarg, SAVE_TIMEOUT_MAX,
                                          &o.save_timeout) < 0)
                                return 2;
                        break;
                case ARG_SAVE_DIR:
                        o.save_dir = optarg;
                        break;
                case ARG_BRIDGE:
                        if (!ifname_is_valid(optarg)) {
                                fprintf(stderr,
                                        "xensupd: --bridge: '%s' is not an interface name\n",
                                        optarg);
                                return 2;
                        }
                        o.bridge = optarg;
                        break;
                case ARG_CHECK:
                        check = true;
                        break;
                case ARG_DUMP:
                        dump = true;
                        break;
                case ARG_LOG_LEVEL:
                        log_level = log_level_from_string(optarg);
                        if (log_level < 0) {
                                fprintf(stderr, "xensupd: --log-level: '%s' is not one of %s\n",
                                        optarg, LOG_LEVEL_NAMES);
                                return 2;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (check) {
                if (optind >= argc) {
                        fprintf(stderr, "xensupd: --check-config needs at least one FILE\n");
                        return 2;
                }
                return check_config(argv + optind, argc - optind);
        }
        /* Before anything logs: the level, and the notice if journald is missing, come first. */
        log_setup(log_level);
        bo = (struct builder_options){ .kind = o.hypervisor, .sim_dir = o.sim_dir };
        if (dump) {
                if (argc - optind != 4) {
                        fprintf(stderr, "xensupd: --dump-core DOMID PATH UID GROUPS\n");
                        return 2;
                }
                return dump_core(&bo, argv + optind);
        }
        if (optind < argc) {
                fprintf(stderr, "xensupd: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        r = manager_new(&o, &m, &err);
        if (r < 0) {
                fprintf(stderr, "xensupd: %s\n", err ? err : strerror(-r));
                return EXIT_FAILURE;
        }
        r = manager_run(m);
        manager_free(m);
        if (r < 0) {
                fprintf(stderr, "xensupd: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
