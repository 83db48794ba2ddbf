"""Scores image crops with the MTCNN O-Net (det3) through MXNet's C predict API
(netlite's libnetlite.so, via mxnet_predict.py / ctypes): "is this crop a face?".

    python3 examples/python/onet_score.py <model-dir> crop1.ppm [crop2.ppm ...]

Each crop (binary PPM, any size) is resized to 48x48 and fed as BGR planes
normalised with (x - 127.5) * 0.0078125, all crops in one batch. Prints one line
per crop: "<file> face=<probability> landmarks=x,y ..." (landmarks relative to
the crop, in pixels). Pure Python: numpy is not needed.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxnet_predict import Predictor  # noqa: E402


def read_ppm(path):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] != b'P6':
        raise ValueError('%s: not a binary PPM (P6)' % path)
    fields, pos = [], 2
    while len(fields) < 3:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b'#':
            while data[pos:pos + 1] not in (b'\n', b''):
                pos += 1
            continue
        start = pos
        while data[pos:pos + 1].isdigit():
            pos += 1
        fields.append(int(data[start:pos]))
    width, height, maxval = fields
    if maxval != 255:
        raise ValueError('%s: only 8-bit PPM is supported' % path)
    pixels = data[pos + 1:pos + 1 + width * height * 3]
    if len(pixels) != width * height * 3:
        raise ValueError('%s: truncated' % path)
    return width, height, pixels


def to_input(width, height, rgb, side=48):
    """Bilinear resize (pixel centres) to side x side; BGR planes, normalised."""
    out = [0.0] * (3 * side * side)
    sx, sy = width / float(side), height / float(side)
    for y in range(side):
        fy = max(0.0, (y + 0.5) * sy - 0.5)
        y0 = min(int(fy), height - 1)
        y1 = min(y0 + 1, height - 1)
        wy = fy - y0
        for x in range(side):
            fx = max(0.0, (x + 0.5) * sx - 0.5)
            x0 = min(int(fx), width - 1)
            x1 = min(x0 + 1, width - 1)
            wx = fx - x0
            for c in range(3):
                rc = 2 - c  # BGR
                p00 = rgb[(y0 * width + x0) * 3 + rc]
                p01 = rgb[(y0 * width + x1) * 3 + rc]
                p10 = rgb[(y1 * width + x0) * 3 + rc]
                p11 = rgb[(y1 * width + x1) * 3 + rc]
                top = p00 + (p01 - p00) * wx
                bottom = p10 + (p11 - p10) * wx
                out[c * side * side + y * side + x] = (top + (bottom - top) * wy - 127.5) * 0.0078125
    return out


def main(argv):
    if len(argv) < 3:
        sys.stderr.write('usage: %s <model-dir> crop.ppm [...]\n' % argv[0])
        return 2
    model_dir, crops = argv[1], argv[2:]
    with open(os.path.join(model_dir, 'det3-symbol.json')) as f:
        symbol = f.read()
    with open(os.path.join(model_dir, 'det3-0001.params'), 'rb') as f:
        params = f.read()
    # Created for one crop, then reshaped to the batch: the weights are shared.
    pred = Predictor(symbol, params, {'data': (1, 3, 48, 48)})
    batch, sizes = [], []
    for path in crops:
        w, h, rgb = read_ppm(path)
        sizes.append((w, h))
        batch.extend(to_input(w, h, rgb))
    pred.reshape({'data': (len(crops), 3, 48, 48)})
    pred.forward(data=batch)
    outputs = [pred.get_output(i) for i in range(3)]
    if not isinstance(outputs[0], tuple):  # numpy arrays
        outputs = [(o.ravel().tolist(), o.shape) for o in outputs]
    (points, _), (_, _), (prob, prob_shape) = outputs
    assert prob_shape == (len(crops), 2) and pred.get_output_type(2) == 'float32'
    for i, path in enumerate(crops):
        w, h = sizes[i]
        pts = points[10 * i:10 * i + 10]
        marks = ' '.join('%.0f,%.0f' % (pts[k] * w, pts[5 + k] * h) for k in range(5))
        print('%s face=%.4f landmarks=%s' % (os.path.basename(path), prob[2 * i + 1], marks))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
