# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Compiled scanners for the common shapes of the two bulk protocols (decision 0041).

Each reads a whole body in one pass and returns the same columns as the numpy and bytes
paths it stands in for (`prometheus/fast.py`, `influx/fast.py`), or None for any other
shape, which the Python readers then read and name the error of. They never raise on bad
input: every length is checked against the end of the body before it is followed.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.math cimport isfinite
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc, realloc, strtod
from libc.string cimport memchr, memcpy

import numpy as np

DEF MAX_NUMBER = 63  # longest number token copied out for strtod; longer ones: None


cdef inline Py_ssize_t _varint(
    const uint8_t* p, Py_ssize_t pos, Py_ssize_t end, uint64_t* out
) noexcept nogil:
    """The varint at `pos`: the position after it, or -1 (past `end`, or over 10 bytes)."""
    cdef uint64_t value = 0
    cdef int shift = 0
    cdef uint8_t b
    while pos < end and shift < 64:
        b = p[pos]
        value |= (<uint64_t>(b & 0x7F)) << shift
        pos += 1
        if b < 0x80:
            out[0] = value
            return pos
        shift += 7
    return -1


def remote_write_v1(const uint8_t[::1] data):
    """A `WriteRequest` made of `timeseries` only, each its labels and then exactly one
    sample: (raw label runs, timestamps in ms, values); None for any other shape."""
    cdef Py_ssize_t n = data.shape[0]
    if n == 0:
        return None
    cdef const uint8_t* p = &data[0]
    cdef Py_ssize_t pos = 0, q, count = 0
    cdef uint64_t length
    while pos < n:  # count the records: only field 1 (length-delimited) at the top level
        if p[pos] != 0x0A:
            return None
        q = _varint(p, pos + 1, n, &length)
        if q < 0 or length > <uint64_t>(n - q):
            return None
        pos = q + <Py_ssize_t>length
        count += 1
    stamps = np.empty(count, np.int64)
    values = np.empty(count, np.float64)
    cdef int64_t[::1] ts = stamps
    cdef double[::1] vs = values
    keys = [None] * count
    cdef Py_ssize_t i = 0, start, end
    cdef uint64_t stamp
    cdef double value
    pos = 0
    while pos < n:
        start = _varint(p, pos + 1, n, &length)
        end = start + <Py_ssize_t>length
        q = start
        while q < end and p[q] == 0x0A:  # Label fields; their contents are read on a miss
            q = _varint(p, q + 1, end, &length)
            if q < 0 or length > <uint64_t>(end - q):
                return None
            q += <Py_ssize_t>length
        if q >= end or p[q] != 0x12:
            return None
        keys[i] = PyBytes_FromStringAndSize(<const char*>(p + start), q - start)
        q = _varint(p, q + 1, end, &length)
        if q < 0 or length != <uint64_t>(end - q):
            return None  # the one Sample must end its record
        value = 0.0
        stamp = 0
        if q < end and p[q] == 0x09:  # double value = 1
            if end - q < 9:
                return None
            memcpy(&value, p + q + 1, 8)
            q += 9
        if q < end and p[q] == 0x10:  # int64 timestamp = 2
            q = _varint(p, q + 1, end, &stamp)
            if q < 0:
                return None
        if q != end:
            return None  # out of order, repeated or unknown fields
        ts[i] = <int64_t>stamp
        vs[i] = value
        i += 1
        pos = end
    return keys, stamps, values


cdef inline bint _float_byte(uint8_t c) noexcept nogil:
    return (48 <= c <= 57) or c == 46 or c == 45 or c == 101 or c == 69  # 0-9 . - e E


cdef int _integer(
    const uint8_t* p, Py_ssize_t a, Py_ssize_t b, bint unsigned, double* out
) noexcept nogil:
    """Digits in [a, b) with an optional '-' (not for unsigned) within int64 / uint64:
    0 and the value as a double, or -1."""
    cdef bint negative = False
    cdef uint64_t value = 0, limit
    cdef uint8_t c
    if a < b and p[a] == 45:
        if unsigned:
            return -1
        negative = True
        a += 1
    if a >= b:
        return -1
    limit = 0xFFFFFFFFFFFFFFFF if unsigned else (<uint64_t>1 << 63) - 1 + negative
    while a < b:
        c = p[a]
        if c < 48 or c > 57:
            return -1
        if value > (limit - (c - 48)) // 10:
            return -1
        value = value * 10 + (c - 48)
        a += 1
    if negative and value:  # "-0i" is 0, not -0.0
        out[0] = -<double>value
    else:
        out[0] = <double>value
    return 0


cdef int _number(const uint8_t* p, Py_ssize_t a, Py_ssize_t b, double* out) noexcept nogil:
    """A field value: a float (digits . - e E only), `<int>i` or `<uint>u`; 0, or -1 for
    anything else (booleans and strings are the general reader's)."""
    cdef char buffer[MAX_NUMBER + 1]
    cdef char* stop
    cdef Py_ssize_t k
    cdef uint8_t last = p[b - 1]
    if last == 105 or last == 117:  # 'i', 'u'
        return _integer(p, a, b - 1, last == 117, out)
    if b - a > MAX_NUMBER:
        return -1
    for k in range(a, b):
        if not _float_byte(p[k]):
            return -1
        buffer[k - a] = <char>p[k]
    buffer[b - a] = 0
    out[0] = strtod(buffer, &stop)
    if stop != buffer + (b - a) or not isfinite(out[0]):
        return -1
    return 0


cdef int _stamp(const uint8_t* p, Py_ssize_t a, Py_ssize_t b, int64_t* out) noexcept nogil:
    cdef bint negative = a < b and p[a] == 45
    cdef Py_ssize_t k = a + negative
    cdef uint64_t value = 0
    cdef uint8_t c
    if k >= b:
        return -1
    while k < b:
        c = p[k]
        if c < 48 or c > 57 or value > ((<uint64_t>1 << 63) - (c - 48)) // 10:
            return -1
        value = value * 10 + (c - 48)
        k += 1
    if value > (<uint64_t>1 << 63) - 1:
        if not negative:
            return -1
        out[0] = -9223372036854775807 - 1
    else:
        out[0] = -<int64_t>value if negative else <int64_t>value
    return 0


cdef bytes _joined(
    const uint8_t* p, Py_ssize_t k0, Py_ssize_t k1, Py_ssize_t f0, Py_ssize_t f1,
    const char* suffix, Py_ssize_t suffix_length,
):
    """`<key> <field><suffix>` as one bytes object: the interner's key of a point."""
    cdef Py_ssize_t key_length = k1 - k0, field_length = f1 - f0
    joined = PyBytes_FromStringAndSize(NULL, key_length + 1 + field_length + suffix_length)
    cdef char* out = PyBytes_AS_STRING(joined)
    memcpy(out, p + k0, key_length)
    out[key_length] = 32
    memcpy(out + key_length + 1, p + f0, field_length)
    memcpy(out + key_length + 1 + field_length, suffix, suffix_length)
    return joined


def line_protocol(const uint8_t[::1] data, bytes suffix):
    """Lines without escapes, quotes, comments, tabs or CR, every field a number:
    (`<series key> <field key><suffix>` per point, values, timestamps as written or None
    when no line has one); None for anything else."""
    cdef Py_ssize_t n = data.shape[0]
    if n == 0:
        return None
    cdef const uint8_t* p = &data[0]
    cdef const char* tail = PyBytes_AS_STRING(suffix)
    cdef Py_ssize_t tail_length = len(suffix)
    cdef int bad
    for bad in (92, 34, 35, 13, 9):  # backslash, quote, comment, CR, tab: memchr is SIMD
        if memchr(p, bad, n) != NULL:
            return None
    if p[n - 1] == 10:
        n -= 1
    if n == 0 or p[0] == 10:
        return None
    # Columns grow as needed (C buffers): counting the fields first was a second pass.
    cdef Py_ssize_t capacity = 64 + n // 32
    cdef double* vs = <double*>malloc(capacity * sizeof(double))
    cdef int64_t* ts = <int64_t*>malloc(capacity * sizeof(int64_t))
    try:
        return _lines(p, n, tail, tail_length, &vs, &ts, capacity)
    finally:
        free(vs)
        free(ts)


cdef object _lines(
    const uint8_t* p, Py_ssize_t n, const char* tail, Py_ssize_t tail_length,
    double** vs_at, int64_t** ts_at, Py_ssize_t capacity,
):
    cdef double* vs = vs_at[0]
    cdef int64_t* ts = ts_at[0]
    cdef void* grown
    if vs == NULL or ts == NULL:
        raise MemoryError()
    keys = []
    cdef Py_ssize_t pos = 0, eol, key_end, fields_end, a, b, eq, count = 0
    cdef int timed = -1  # unknown until the first line; lines must all agree
    cdef int64_t stamp = 0
    cdef double value
    cdef const uint8_t* found
    while pos < n:
        found = <const uint8_t*>memchr(p + pos, 10, n - pos)
        eol = n if found == NULL else found - p
        found = <const uint8_t*>memchr(p + pos, 32, eol - pos)
        key_end = eol if found == NULL else found - p
        if key_end == pos or key_end >= eol - 1:
            return None  # an empty key, no fields, or a blank line
        fields_end = key_end + 1
        while fields_end < eol and p[fields_end] != 32:
            fields_end += 1
        if fields_end == key_end + 1:
            return None  # two spaces
        if fields_end < eol:
            if timed == 0 or _stamp(p, fields_end + 1, eol, &stamp) != 0:
                return None
            timed = 1
        else:
            if timed == 1:
                return None
            timed = 0
        a = key_end + 1
        while a < fields_end:
            b = a
            eq = -1
            while b < fields_end and p[b] != 44:  # ','
                if p[b] == 61:
                    if eq >= 0:
                        return None  # two '=' in one field
                    eq = b
                b += 1
            if eq <= a or eq >= b - 1:
                return None  # no name, no '=' or no value
            if _number(p, eq + 1, b, &value) != 0:
                return None
            if count == capacity:
                capacity *= 2
                grown = realloc(vs, capacity * sizeof(double))
                if grown == NULL:
                    raise MemoryError()
                vs = vs_at[0] = <double*>grown
                grown = realloc(ts, capacity * sizeof(int64_t))
                if grown == NULL:
                    raise MemoryError()
                ts = ts_at[0] = <int64_t*>grown
            vs[count] = value
            ts[count] = stamp
            keys.append(_joined(p, pos, key_end, a, eq, tail, tail_length))
            count += 1
            a = b + 1
            if b < fields_end and a >= fields_end:
                return None  # a trailing comma
        pos = eol + 1
        if eol < n and pos >= n:
            return None  # a blank last line
    values = np.empty(count, np.float64)
    cdef double[::1] value_view = values
    if count:
        memcpy(&value_view[0], vs, count * sizeof(double))
    if timed != 1:
        return keys, values, None
    stamps = np.empty(count, np.int64)
    cdef int64_t[::1] stamp_view = stamps
    if count:
        memcpy(&stamp_view[0], ts, count * sizeof(int64_t))
    return keys, values, stamps


def lookup(dict known, list keys):
    """Each key's int in `known`, -1 where it has none, as an int64 array: the interner's
    lookup without a list of Python results (interning.py)."""
    cdef Py_ssize_t i = 0
    found = np.empty(len(keys), np.int64)
    cdef int64_t[::1] view = found
    for key in keys:
        value = known.get(key)
        view[i] = -1 if value is None else <int64_t>value
        i += 1
    return found
