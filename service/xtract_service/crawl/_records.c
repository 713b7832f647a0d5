/* _records: a crawl block's file records rendered as JSON, for flushes.
 *
 * render(prefix, files_json, block_id, first) -> bytes or None
 *
 * ``files_json`` is orjson's rendering of a slice of a per-file block's entries
 * (families.py's shape, ``[["name",size,mtime],...]``): names escaped, numbers written
 * (floats by orjson's shortest round trip). This only rearranges those bytes into the
 * records a flush hands out, joined by commas, no brackets:
 *
 *   {"path":prefix+name,"size":size,"extension":ext,"mtime":mtime,"family_id":"id.N"}
 *
 * with N = first + i and ext as families.extension computes it (lowercasing escaped
 * text is escaping lowercased text: orjson's escapes are lowercase already). The answer
 * parses to exactly what orjson.dumps of families.block_files' records parses to
 * (tests/fast/test_flush_render.py checks both, and the bytes). None where this
 * renderer would have to guess: an entry that is not three items (a name that is not
 * UTF-8 carries its raw bytes), an extension with a character that is not ASCII
 * (str.lower is Unicode's), or text that is not what orjson writes. The caller then
 * renders that block in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>

typedef struct {
    char *buf;
    size_t len, cap;
} out_t;

static int grow(out_t *o, size_t more) {
    if (o->len + more <= o->cap) return 0;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap < o->len + more) cap *= 2;
    char *b = PyMem_Realloc(o->buf, cap);
    if (!b) return -1;
    o->buf = b;
    o->cap = cap;
    return 0;
}

static int put(out_t *o, const char *s, size_t n) {
    if (grow(o, n)) return -1;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    return 0;
}

/* s as the inside of a JSON string, escaped as orjson escapes: '"', '\\', and control
 * characters (\b \t \n \f \r by name, the rest as \u00xx); everything else as is. */
static int put_escaped(out_t *o, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    if (grow(o, n * 6)) return -1;
    char *w = o->buf + o->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *w++ = (char)c;
            continue;
        }
        *w++ = '\\';
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\b': *w++ = 'b'; break;
        case '\t': *w++ = 't'; break;
        case '\n': *w++ = 'n'; break;
        case '\f': *w++ = 'f'; break;
        case '\r': *w++ = 'r'; break;
        default:
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    o->len = (size_t)(w - o->buf);
    return 0;
}

/* The end of the JSON string starting after the quote at s[i]: the index of its
 * closing quote, or -1. */
static Py_ssize_t string_end(const char *s, Py_ssize_t n, Py_ssize_t i) {
    for (; i < n; i++) {
        if (s[i] == '\\') i++;
        else if (s[i] == '"') return i;
    }
    return -1;
}

/* The end of a number (or null) token starting at s[i]: the index of the ',' or ']'
 * after it, or -1. */
static Py_ssize_t token_end(const char *s, Py_ssize_t n, Py_ssize_t i) {
    Py_ssize_t start = i;
    while (i < n && s[i] != ',' && s[i] != ']') {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' ||
              c == 'E' || c == 'n' || c == 'u' || c == 'l'))
            return -1;
        i++;
    }
    return i > start && i < n ? i : -1;
}

/* One entry ``["name",size,mtime]`` at s[*at]; 1 where this renderer declines, -1 on
 * an error. Moves *at past the entry. */
static int put_record(out_t *o, const char *s, Py_ssize_t n, Py_ssize_t *at,
                      const out_t *head, const out_t *fam, long long fid) {
    Py_ssize_t i = *at;
    if (i + 1 >= n || s[i] != '[' || s[i + 1] != '"') return 1;
    Py_ssize_t name = i + 2, name_end = string_end(s, n, name);
    if (name_end < 0 || name_end + 1 >= n || s[name_end + 1] != ',') return 1;
    Py_ssize_t size = name_end + 2, size_end = token_end(s, n, size);
    if (size_end < 0 || s[size_end] != ',') return 1;
    Py_ssize_t mtime = size_end + 1, mtime_end = token_end(s, n, mtime);
    if (mtime_end < 0 || s[mtime_end] != ']') return 1; /* a fourth item: raw bytes */
    *at = mtime_end + 1;
    Py_ssize_t dot = -1;
    for (Py_ssize_t k = name_end - 1; k > name; k--) {
        if (s[k] == '.') {
            dot = k;
            break;
        }
    }
    char ext[256];
    size_t elen = 0;
    if (dot > 0) {
        for (Py_ssize_t k = dot + 1; k < name_end; k++) {
            unsigned char c = (unsigned char)s[k];
            if (c >= 0x80 || elen >= sizeof ext) return 1;
            ext[elen++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    char digits[24];
    size_t dn = 0;
    unsigned long long u = fid < 0 ? 0 : (unsigned long long)fid;
    do {
        digits[sizeof digits - 1 - dn++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (put(o, head->buf, head->len) || put(o, s + name, (size_t)(name_end - name)) ||
        put(o, "\",\"size\":", 9) ||
        put(o, s + size, (size_t)(size_end - size)) || put(o, ",\"extension\":\"", 14) ||
        put(o, ext, elen) || put(o, "\",\"mtime\":", 10) ||
        put(o, s + mtime, (size_t)(mtime_end - mtime)) || put(o, fam->buf, fam->len) ||
        put(o, digits + sizeof digits - dn, dn) || put(o, "\"}", 2))
        return -1;
    return 0;
}

static PyObject *render(PyObject *self, PyObject *args) {
    const char *prefix, *bid, *s;
    Py_ssize_t plen, blen, n;
    long long first;
    (void)self;
    if (!PyArg_ParseTuple(args, "s#y#s#L:render", &prefix, &plen, &s, &n, &bid, &blen,
                          &first))
        return NULL;
    out_t o = {NULL, 0, 0}, head = {NULL, 0, 0}, fam = {NULL, 0, 0};
    int rc = n >= 2 && s[0] == '[' && s[n - 1] == ']' ? 0 : 1;
    /* what every record repeats, escaped once: the path's start, the family id's */
    if (put(&head, "{\"path\":\"", 9) || put_escaped(&head, prefix, (size_t)plen) ||
        put(&fam, ",\"family_id\":\"", 14) || put_escaped(&fam, bid, (size_t)blen) ||
        put(&fam, ".", 1) || grow(&o, (size_t)n * 2 + 64))
        rc = -1;
    Py_ssize_t at = 1;
    for (long long i = 0; rc == 0 && at < n - 1; i++) {
        if (i > 0) {
            if (s[at] != ',') {
                rc = 1;
                break;
            }
            at++;
            if (put(&o, ",", 1)) rc = -1;
        }
        if (rc == 0) rc = put_record(&o, s, n, &at, &head, &fam, first + i);
    }
    PyObject *answer = NULL;
    if (rc == 0)
        answer = PyBytes_FromStringAndSize(o.buf ? o.buf : "", (Py_ssize_t)o.len);
    else if (rc > 0)
        answer = Py_NewRef(Py_None);
    else if (!PyErr_Occurred())
        PyErr_NoMemory();
    PyMem_Free(o.buf);
    PyMem_Free(head.buf);
    PyMem_Free(fam.buf);
    return answer;
}

static PyMethodDef methods[] = {
    {"render", render, METH_VARARGS,
     "render(prefix, files_json, block_id, first) -> bytes or None: orjson's rendering "
     "of a per-file block's entries as flush records (see the module's source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_records",
    "A crawl block's file records rendered as JSON, for flushes.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__records(void) { return PyModule_Create(&module); }
