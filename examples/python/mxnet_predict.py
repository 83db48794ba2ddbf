"""MXNet's amalgamation Python predictor (amalgamation/python/mxnet_predict.py),
over netlite's implementation of the MXNet C predict API through ctypes.

Build the shared library from the single file (repository root):

    c++ -std=c++17 -O2 -shared -fPIC native/amalgamation/netlite.cc -o libnetlite.so -lpthread

The library is found through $NETLITE_LIB, else libnetlite.so next to this file,
in the current directory, or at the repository root. numpy is optional: inputs
may be numpy arrays or flat sequences of floats; outputs are numpy arrays when
numpy is installed, else (flat list, shape) pairs.
"""
import ctypes
import os
import sys
from array import array

try:
    import numpy as np
except ImportError:  # numpy is optional
    np = None

mx_uint = ctypes.c_uint32
mx_float = ctypes.c_float
mx_float_p = ctypes.POINTER(mx_float)
PredictorHandle = ctypes.c_void_p
NDListHandle = ctypes.c_void_p

# mshadow type codes -> Python array typecodes (netlite always delivers float32)
_DTYPE_NAMES = {0: 'float32', 1: 'float64', 2: 'float16', 3: 'uint8', 4: 'int32', 5: 'int8', 6: 'int64'}
_DEVICES = {'cpu': 1, 'gpu': 2, 'cpu_pinned': 3}


def _find_lib():
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.environ.get('NETLITE_LIB', ''),
                  os.path.join(here, 'libnetlite.so'),
                  os.path.join(os.getcwd(), 'libnetlite.so'),
                  os.path.join(here, '..', '..', 'libnetlite.so')]
    for path in candidates:
        if path and os.path.isfile(path):
            return path
    raise RuntimeError('libnetlite.so not found (build it with: c++ -std=c++17 -O2 -shared -fPIC '
                       'native/amalgamation/netlite.cc -o libnetlite.so -lpthread, or set NETLITE_LIB)')


_LIB = ctypes.CDLL(_find_lib())
_LIB.MXGetLastError.restype = ctypes.c_char_p
_LIB.MXPredCreateEx.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, mx_uint,
                                ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(mx_uint), ctypes.POINTER(mx_uint),
                                mx_uint, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_int),
                                ctypes.POINTER(PredictorHandle)]
_LIB.MXPredReshape.argtypes = [mx_uint, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(mx_uint),
                               ctypes.POINTER(mx_uint), PredictorHandle, ctypes.POINTER(PredictorHandle)]
_LIB.MXPredSetInput.argtypes = [PredictorHandle, ctypes.c_char_p, mx_float_p, mx_uint]
_LIB.MXPredForward.argtypes = [PredictorHandle]
_LIB.MXPredGetOutputShape.argtypes = [PredictorHandle, mx_uint, ctypes.POINTER(ctypes.POINTER(mx_uint)),
                                      ctypes.POINTER(mx_uint)]
_LIB.MXPredGetOutputType.argtypes = [PredictorHandle, mx_uint, ctypes.POINTER(ctypes.c_int)]
_LIB.MXPredGetOutput.argtypes = [PredictorHandle, mx_uint, mx_float_p, mx_uint]
_LIB.MXPredFree.argtypes = [PredictorHandle]
_LIB.MXNDListCreate.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(NDListHandle), ctypes.POINTER(mx_uint)]
_LIB.MXNDListGet.argtypes = [NDListHandle, mx_uint, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(mx_float_p),
                             ctypes.POINTER(ctypes.POINTER(mx_uint)), ctypes.POINTER(mx_uint)]
_LIB.MXNDListFree.argtypes = [NDListHandle]


def _check_call(ret):
    """Raises RuntimeError with MXGetLastError() when a call fails (as MXNet's wrapper does)."""
    if ret != 0:
        raise RuntimeError(_LIB.MXGetLastError().decode('utf-8', 'replace'))


def _c_str_array(strings):
    arr = (ctypes.c_char_p * len(strings))()
    arr[:] = [s.encode('utf-8') for s in strings]
    return arr


def _shapes_csr(input_shapes):
    """{'data': (1, 3, 224, 224)} -> keys, indptr, data (CSR form of MXPredCreate)."""
    keys, indptr, data = [], [0], []
    for key, shape in input_shapes.items():
        keys.append(key)
        data.extend(int(d) for d in shape)
        indptr.append(len(data))
    return (_c_str_array(keys), (mx_uint * len(indptr))(*indptr), (mx_uint * max(1, len(data)))(*data), len(keys))


def _float_buffer(values):
    """A ctypes float pointer over `values` (numpy array or flat float sequence), and its length."""
    if np is not None and isinstance(values, np.ndarray):
        flat = np.ascontiguousarray(values, dtype=np.float32).ravel()
        return flat.ctypes.data_as(mx_float_p), flat.size, flat
    flat = values if isinstance(values, array) and values.typecode == 'f' else array('f', values)
    ptr, n = flat.buffer_info()
    return ctypes.cast(ptr, mx_float_p), n, flat


class Predictor(object):
    """A model with fixed input shapes: forward(**inputs), then get_output(i)."""

    def __init__(self, symbol_file, param_raw_bytes, input_shapes, dev_type='cpu', dev_id=0, type_dict=None):
        """
        symbol_file: the symbol JSON text (str/bytes); param_raw_bytes: the .params bytes;
        input_shapes: dict name -> shape tuple; type_dict: optional dict name -> 'float32'.
        """
        if isinstance(symbol_file, str):
            symbol_file = symbol_file.encode('utf-8')
        keys, indptr, sdata, n = _shapes_csr(input_shapes)
        names, codes = [], []
        for name, dtype in (type_dict or {}).items():
            code = [c for c, nm in _DTYPE_NAMES.items() if nm == str(dtype)]
            if not code:
                raise ValueError('unknown dtype %r' % (dtype,))
            names.append(name)
            codes.append(code[0])
        self.handle = PredictorHandle()
        params = ctypes.create_string_buffer(bytes(param_raw_bytes), len(param_raw_bytes))
        _check_call(_LIB.MXPredCreateEx(ctypes.c_char_p(symbol_file), params, len(param_raw_bytes),
                                        _DEVICES[dev_type], dev_id, n, keys, indptr, sdata, len(names),
                                        _c_str_array(names), (ctypes.c_int * max(1, len(codes)))(*codes),
                                        ctypes.byref(self.handle)))

    def __del__(self):
        if getattr(self, 'handle', None) is not None and _LIB is not None:
            _LIB.MXPredFree(self.handle)
            self.handle = None

    def forward(self, **kwargs):
        """Sets each named input (exactly its element count) and runs the network."""
        for key, values in kwargs.items():
            ptr, n, keep = _float_buffer(values)
            _check_call(_LIB.MXPredSetInput(self.handle, key.encode('utf-8'), ptr, n))
            del keep
        _check_call(_LIB.MXPredForward(self.handle))

    def reshape(self, input_shapes):
        """New input shapes; weights are shared with the old predictor, which is freed."""
        keys, indptr, sdata, n = _shapes_csr(input_shapes)
        new = PredictorHandle()
        _check_call(_LIB.MXPredReshape(n, keys, indptr, sdata, self.handle, ctypes.byref(new)))
        _check_call(_LIB.MXPredFree(self.handle))
        self.handle = new

    def get_output_shape(self, index):
        pdata = ctypes.POINTER(mx_uint)()
        ndim = mx_uint()
        _check_call(_LIB.MXPredGetOutputShape(self.handle, index, ctypes.byref(pdata), ctypes.byref(ndim)))
        return tuple(pdata[:ndim.value])

    def get_output_type(self, index):
        code = ctypes.c_int(-1)
        _check_call(_LIB.MXPredGetOutputType(self.handle, index, ctypes.byref(code)))
        return _DTYPE_NAMES.get(code.value, str(code.value))

    def get_output(self, index):
        """Output `index`: a numpy array, or (flat list, shape) without numpy."""
        shape = self.get_output_shape(index)
        size = 1
        for d in shape:
            size *= d
        if np is not None:
            out = np.empty(shape, dtype=np.float32)
            _check_call(_LIB.MXPredGetOutput(self.handle, index, out.ctypes.data_as(mx_float_p), size))
            return out
        buf = (mx_float * max(1, size))()
        _check_call(_LIB.MXPredGetOutput(self.handle, index, buf, size))
        return list(buf[:size]), shape


def load_ndarray_file(nd_bytes):
    """An NDArray-list file (e.g. a mean image): dict name -> (values, shape), or a list when unnamed."""
    handle = NDListHandle()
    olen = mx_uint()
    _check_call(_LIB.MXNDListCreate(ctypes.c_char_p(bytes(nd_bytes)), len(nd_bytes), ctypes.byref(handle),
                                    ctypes.byref(olen)))
    keys, arrays = [], []
    try:
        for i in range(olen.value):
            key = ctypes.c_char_p()
            cptr = mx_float_p()
            pdata = ctypes.POINTER(mx_uint)()
            ndim = mx_uint()
            _check_call(_LIB.MXNDListGet(handle, i, ctypes.byref(key), ctypes.byref(cptr), ctypes.byref(pdata),
                                         ctypes.byref(ndim)))
            shape = tuple(pdata[:ndim.value])
            size = 1
            for d in shape:
                size *= d
            values = list(cptr[:size]) if size and ndim.value else []
            keys.append(key.value.decode('utf-8'))
            arrays.append((values, shape))
    finally:
        _LIB.MXNDListFree(handle)
    if any(keys):
        return dict(zip(keys, arrays))
    return arrays


if __name__ == '__main__':
    sys.stderr.write('import this module; see onet_score.py for an example\n')
