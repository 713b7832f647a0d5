/* _fastlist: one directory listed the way find(1) lists it, for the local repo.
 *
 * list_dir(fd) reads the open directory ``fd`` (not closed, not moved: it reads a
 * duplicate) with readdir and fstatat, the entries' types from d_type where the file
 * system gives them, without the GIL, then builds the Python answer:
 *
 *   (files, subdirs, odd, errors, links, error, stamps)
 *
 *   files    [[name, size, mtime], ...]  regular files with ASCII names
 *   subdirs  [name, ...]                 directories (names decoded like os.fsdecode)
 *   odd      [[raw name bytes, size, mtime, stamp], ...]  regular files, non-ASCII names
 *   errors   [(raw name bytes, errno), ...]        entries that could not be stat'ed
 *   links    [name, ...]                 symbolic links (never followed here)
 *   error    errno of a failure part way through the listing, else 0
 *   stamps   [stamp, ...]                one per entry of ``files``, in the same order:
 *            the change stamp of its inode and ctime (repos.change_stamp, the same sum)
 *
 * mtime is computed as os.stat computes st_mtime (sec + nsec * 1e-9), so both listers
 * give the same float. Anything that is not a file, a directory or a link is left out,
 * as the Python lister leaves it out. Following symbolic links is the Python lister's job.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { K_FILE, K_ODD, K_DIR, K_LINK, K_ERR };

typedef struct {
    size_t name;    /* offset into the name buffer */
    size_t len;
    int kind;
    int err;
    long long size;
    double mtime;
    unsigned long long ino; /* the change stamp */
} item;

typedef struct {
    char *names;
    size_t used, cap;
    item *items;
    size_t n, icap;
    int error;
    int oom;
} listing;

static int grow(void **p, size_t *cap, size_t need, size_t each) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * each);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int is_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] & 0x80) return 0;
    return 1;
}

/* Runs without the GIL: touches only C memory and the file system. */
static void read_all(int fd, listing *out) {
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0) { out->error = errno; return; }
    DIR *d = fdopendir(dfd);
    if (!d) { out->error = errno; close(dfd); return; }
    rewinddir(d);
    for (;;) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) { out->error = errno; break; }
        const char *nm = e->d_name;
        if (nm[0] == '.' && (nm[1] == 0 || (nm[1] == '.' && nm[2] == 0))) continue;
        int kind;
        struct stat s;
        int err = 0;
        unsigned char t = e->d_type;
        if (t == DT_DIR) {
            kind = K_DIR;
        } else if (t == DT_LNK) {
            kind = K_LINK;
        } else if (t == DT_REG || t == DT_UNKNOWN) {
            if (fstatat(dfd, nm, &s, AT_SYMLINK_NOFOLLOW) != 0) {
                err = errno;
                kind = K_ERR;
            } else if (S_ISREG(s.st_mode)) {
                kind = K_FILE;
            } else if (S_ISDIR(s.st_mode)) {
                kind = K_DIR;
            } else if (S_ISLNK(s.st_mode)) {
                kind = K_LINK;
            } else {
                continue;
            }
        } else {
            continue; /* sockets, fifos, devices */
        }
        size_t len = strlen(nm);
        if (grow((void **)&out->names, &out->cap, out->used + len + 1, 1) ||
            grow((void **)&out->items, &out->icap, out->n + 1, sizeof(item))) {
            out->oom = 1;
            break;
        }
        memcpy(out->names + out->used, nm, len + 1);
        item *it = &out->items[out->n++];
        it->name = out->used;
        it->len = len;
        it->err = err;
        if (kind == K_FILE) {
            it->size = (long long)s.st_size;
            it->mtime = (double)s.st_mtim.tv_sec + (double)s.st_mtim.tv_nsec * 1e-9;
            unsigned long long ctime_ns = (unsigned long long)s.st_ctim.tv_sec * 1000000000ULL
                                        + (unsigned long long)s.st_ctim.tv_nsec;
            it->ino = (((unsigned long long)s.st_ino * 1000003ULL) ^ ctime_ns)
                      & 0x7fffffffffffffffULL;
            if (!it->ino) it->ino = 1;
            if (!is_ascii(nm, len)) kind = K_ODD;
        }
        it->kind = kind;
        out->used += len + 1;
    }
    closedir(d);
}

static int append_steal(PyObject *list, PyObject *x) {
    if (!x) return -1;
    int rc = PyList_Append(list, x);
    Py_DECREF(x);
    return rc;
}

static PyObject *build(const listing *l) {
    PyObject *files = PyList_New(0), *dirs = PyList_New(0), *odd = PyList_New(0),
             *errs = PyList_New(0), *links = PyList_New(0), *inos = PyList_New(0);
    if (!files || !dirs || !odd || !errs || !links || !inos) goto fail;
    for (size_t i = 0; i < l->n; i++) {
        const item *it = &l->items[i];
        const char *nm = l->names + it->name;
        Py_ssize_t n = (Py_ssize_t)it->len;
        int rc;
        switch (it->kind) {
        case K_FILE:
            rc = append_steal(files, Py_BuildValue("[s#Ld]", nm, n, it->size, it->mtime));
            if (!rc) rc = append_steal(inos, PyLong_FromUnsignedLongLong(it->ino));
            break;
        case K_ODD:
            rc = append_steal(odd, Py_BuildValue("[y#LdK]", nm, n, it->size, it->mtime, it->ino));
            break;
        case K_DIR:
            rc = append_steal(dirs, PyUnicode_DecodeFSDefaultAndSize(nm, n));
            break;
        case K_LINK:
            rc = append_steal(links, PyUnicode_DecodeFSDefaultAndSize(nm, n));
            break;
        default:
            rc = append_steal(errs, Py_BuildValue("(y#i)", nm, n, it->err));
        }
        if (rc) goto fail;
    }
    return Py_BuildValue("(NNNNNiN)", files, dirs, odd, errs, links, l->error, inos);
fail:
    Py_XDECREF(inos);
    Py_XDECREF(links);
    Py_XDECREF(files);
    Py_XDECREF(dirs);
    Py_XDECREF(odd);
    Py_XDECREF(errs);
    return NULL;
}

static PyObject *list_dir(PyObject *self, PyObject *args) {
    int fd;
    if (!PyArg_ParseTuple(args, "i:list_dir", &fd)) return NULL;
    listing l;
    memset(&l, 0, sizeof l);
    Py_BEGIN_ALLOW_THREADS
    read_all(fd, &l);
    Py_END_ALLOW_THREADS
    PyObject *out = l.oom ? PyErr_NoMemory() : build(&l);
    free(l.names);
    free(l.items);
    return out;
}

static PyMethodDef methods[] = {
    {"list_dir", list_dir, METH_VARARGS,
     "list_dir(fd) -> (files, subdirs, odd, errors, links, error, stamps): one directory, "
     "read with readdir and fstatat (see the module's source for the shapes)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fastlist",
    "One directory listed with readdir and fstatat, without the GIL.", -1, methods,
};

PyMODINIT_FUNC PyInit__fastlist(void) { return PyModule_Create(&module); }
