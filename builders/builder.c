/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builders/builder-internal.h"
#include "common/error.h"

int builder_open(const struct builder_options *opts, struct builder **ret, char **err_r)
{
        _cleanup_free_ struct builder *b = calloc(1, sizeof(*b));
        int r;

        if (!b)
                return err_setf(err_r, -ENOMEM, "out of memory");
        b->ops = opts->kind == BUILDER_XEN ? &builder_xen_ops : &builder_sim_ops;
        r = b->ops->open(b, opts, err_r);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b);
        return 0;
}

struct builder *builder_close(struct builder *b)
{
        if (!b)
                return NULL;
        b->ops->close(b);
        free(b);
        return NULL;
}

const char *builder_name(const struct builder *b)
{
        return b->ops->name;
}

/* Every image the config names was opened, and is a regular file: the backends rely on it. */
static int check_image(const char *what, const char *path, int fd, char **err_r)
{
        struct stat st;

        if (!path || !path[0])
                return 0;
        if (fd < 0)
                return err_setf(err_r, -EBADF, "load %s %s: the file was not opened", what, path);
        if (fstat(fd, &st) < 0)
                return err_setf(err_r, -errno, "load %s %s: %s", what, path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return err_setf(err_r, -EINVAL, "load %s %s: not a regular file", what, path);
        return 0;
}

int builder_create(struct builder *b, const struct domain_config *cfg,
                   const struct builder_images *img, struct builder_domain *out, char **err_r)
{
        static const struct builder_images none = BUILDER_IMAGES_INIT;
        int r;

        if (!img)
                img = &none;
        r = check_image("kernel", cfg->kernel, img->kernel_fd, err_r);
        if (r >= 0)
                r = check_image("ramdisk", cfg->ramdisk, img->ramdisk_fd, err_r);
        if (r < 0)
                return r;
        return b->ops->create(b, cfg, img, out, err_r);
}

int builder_introduce(struct builder *b, const struct builder_domain *d, char **err_r)
{
        return b->ops->introduce(b, d, err_r);
}

int builder_unpause(struct builder *b, uint32_t domid, char **err_r)
{
        return b->ops->unpause(b, domid, err_r);
}

int builder_pause(struct builder *b, uint32_t domid, char **err_r)
{
        return b->ops->pause(b, domid, err_r);
}

int builder_shutdown(struct builder *b, uint32_t domid, enum shutdown_reason why, char **err_r)
{
        return b->ops->shutdown(b, domid, why, err_r);
}

int builder_destroy(struct builder *b, uint32_t domid, char **err_r)
{
        return b->ops->destroy(b, domid, err_r);
}

int builder_list(struct builder *b, struct builder_domain_info **infos_r, size_t *n_r, char **err_r)
{
        return b->ops->list(b, infos_r, n_r, err_r);
}

int builder_set_memory(struct builder *b, uint32_t domid, uint64_t target_kib, char **err_r)
{
        return b->ops->set_memory(b, domid, target_kib, err_r);
}

int builder_set_vcpus(struct builder *b, uint32_t domid, unsigned n, char **err_r)
{
        return b->ops->set_vcpus(b, domid, n, err_r);
}

int builder_set_max_memory(struct builder *b, uint32_t domid, uint64_t max_kib, char **err_r)
{
        return b->ops->set_max_memory(b, domid, max_kib, err_r);
}

int builder_host_info(struct builder *b, struct builder_host_info *out, char **err_r)
{
        memset(out, 0, sizeof(*out));
        return b->ops->host_info(b, out, err_r);
}

int builder_vcpu_list(struct builder *b, uint32_t domid, struct builder_vcpu_info **vcpus_r,
                      size_t *n_r, char **err_r)
{
        *vcpus_r = NULL;
        *n_r = 0;
        return b->ops->vcpu_list(b, domid, vcpus_r, n_r, err_r);
}

int builder_vcpu_pin(struct builder *b, uint32_t domid, unsigned vcpu,
                     const struct builder_cpumap *hard, const struct builder_cpumap *soft,
                     char **err_r)
{
        if (!hard && !soft)
                return err_setf(err_r, -EINVAL, "vcpu %u of domain %u: no affinity to set", vcpu,
                                domid);
        return b->ops->vcpu_pin(b, domid, vcpu, hard, soft, err_r);
}

int builder_dumpcore(struct builder *b, uint32_t domid, int fd, char **err_r)
{
        return b->ops->dumpcore(b, domid, fd, err_r);
}

/* A backend without an operation says so rather than crash. */
static int not_supported(const struct builder *b, const char *what, char **err_r)
{
        return err_setf(err_r, -EOPNOTSUPP, "the %s backend cannot %s", b->ops->name, what);
}

int builder_save(struct builder *b, uint32_t domid, int fd, bool live, builder_suspend_fn suspend,
                 void *data, char **err_r)
{
        if (!b->ops->save)
                return not_supported(b, "save a domain", err_r);
        if (!suspend)
                return err_setf(err_r, -EINVAL, "domid %u: save: no way to suspend the guest",
                                domid);
        return b->ops->save(b, domid, fd, live, suspend, data, err_r);
}

int builder_restore(struct builder *b, const struct domain_config *cfg, int fd,
                    struct builder_domain *out, char **err_r)
{
        if (!b->ops->restore)
                return not_supported(b, "restore a domain", err_r);
        return b->ops->restore(b, cfg, fd, out, err_r);
}

int builder_resume(struct builder *b, uint32_t domid, char **err_r)
{
        if (!b->ops->resume)
                return not_supported(b, "resume a domain", err_r);
        return b->ops->resume(b, domid, err_r);
}

int builder_find_live(struct builder *b, const uint8_t uuid[16], uint32_t *domid_r, char **err_r)
{
        return b->ops->find_live(b, uuid, domid_r, err_r);
}

int builder_set_handle(struct builder *b, uint32_t domid, const uint8_t uuid[16], char **err_r)
{
        return b->ops->set_handle(b, domid, uuid, err_r);
}

/* A backend without the host side of devices says so rather than crash. */
static int no_host_devices(const struct builder *b, char **err_r)
{
        return err_setf(err_r, -EOPNOTSUPP, "the %s backend does not attach devices", b->ops->name);
}

int builder_disk_attach(struct builder *b, int target_fd, bool readonly, const char *target,
                        struct builder_disk_host *out, char **err_r)
{
        *out = (struct builder_disk_host){ 0 };
        if (!b->ops->disk_attach)
                return no_host_devices(b, err_r);
        return b->ops->disk_attach(b, target_fd, readonly, target, out, err_r);
}

int builder_disk_release(struct builder *b, const struct builder_disk_host *h, char **err_r)
{
        if (!b->ops->disk_release)
                return no_host_devices(b, err_r);
        return b->ops->disk_release(b, h, err_r);
}

int builder_disk_find_loops(struct builder *b, uint64_t backing_dev, uint64_t backing_ino,
                            struct builder_loop **loops_r, size_t *n_r, char **err_r)
{
        *loops_r = NULL;
        *n_r = 0;
        if (!b->ops->disk_find_loops)
                return no_host_devices(b, err_r);
        return b->ops->disk_find_loops(b, backing_dev, backing_ino, loops_r, n_r, err_r);
}

int builder_vif_plug(struct builder *b, const struct builder_vif_host *v, unsigned *mtu_r,
                     char **err_r)
{
        if (!b->ops->vif_plug)
                return no_host_devices(b, err_r);
        return b->ops->vif_plug(b, v, mtu_r, err_r);
}

int builder_vif_unplug(struct builder *b, const char *ifname, char **err_r)
{
        if (!b->ops->vif_unplug)
                return no_host_devices(b, err_r);
        return b->ops->vif_unplug(b, ifname, err_r);
}
