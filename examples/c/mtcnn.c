/*
 * mtcnn.c - face detection with the MTCNN cascade (P-Net, R-Net, O-Net) through
 * MXNet's C predict API, as implemented by the single-file netlite.
 *
 * Build (one command, from the repository root):
 *   c++ -std=c++17 -O2 native/amalgamation/netlite.cc examples/c/mtcnn.c -o mtcnn -lpthread
 * Run:
 *   ./mtcnn <model-dir> <image.ppm | image.rgb WIDTH HEIGHT> [--min-size N] [--transpose]
 * <model-dir> holds det1/det2/det3-symbol.json and -0001.params. The image is a
 * binary PPM (P6, maxval 255) or raw interleaved RGB bytes, so no decoder is needed.
 * Prints one line per face: "face x1 y1 x2 y2 score" then five landmarks.
 *
 * The program is plain C (it also compiles as C++, as in the command above): it
 * uses nothing but c_predict_api.h and the C library, like any FFI caller would.
 *
 * The algorithm follows Zhang et al. 2016 and the usual MTCNN ports: an image
 * pyramid (scale factor 0.709, smallest face `min_size` pixels) through P-Net,
 * then R-Net on 24x24 crops and O-Net on 48x48 crops, with bounding-box
 * regression, squaring and non-maximum suppression after each stage. Pixels are
 * fed as BGR planes normalised with (x - 127.5) * 0.0078125.
 *
 * Orientation: the original Caffe/Matlab MTCNN weights were trained on
 * column-major (transposed) images, and some ports feed width and height
 * swapped. These MXNet files were converted with the transpose folded into the
 * weights: they expect plain (N, 3, H, W) input. Measured on astronaut.png:
 * O-Net gives the face 1.000 with eye/nose/mouth landmarks in place in that
 * layout, 0.93 with scrambled landmarks transposed, and the transposed cascade
 * finds no face at all. --transpose feeds (N, 3, W, H) for weights that need it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../native/include/c_predict_api.h"

typedef struct {
  int width, height;
  unsigned char *rgb; /* interleaved, row-major */
} Image;

typedef struct {
  float x1, y1, x2, y2, score;
  float reg[4];
  float pts[10]; /* x0..x4, y0..y4 */
} Box;

typedef struct {
  Box *items;
  int count, capacity;
} BoxList;

static void die(const char *what) {
  fprintf(stderr, "mtcnn: %s\n", what);
  exit(1);
}

static void check(int rc, const char *what) {
  if (rc != 0) {
    fprintf(stderr, "mtcnn: %s failed: %s\n", what, MXGetLastError());
    exit(1);
  }
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) die("out of memory");
  return p;
}

static char *read_file(const char *path, long *size) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) {
    fprintf(stderr, "mtcnn: cannot open %s\n", path);
    exit(1);
  }
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char *)xmalloc((size_t)n + 1);
  if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) die("cannot read a file");
  buf[n] = '\0'; /* the symbol JSON is passed as a C string */
  fclose(f);
  *size = n;
  return buf;
}

/* Skips whitespace and '#' comments in a PPM header. */
static const char *ppm_skip(const char *p, const char *end) {
  while (p < end) {
    if (*p == '#') {
      while (p < end && *p != '\n') ++p;
    } else if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
      ++p;
    } else {
      break;
    }
  }
  return p;
}

static const char *ppm_int(const char *p, const char *end, int *v) {
  p = ppm_skip(p, end);
  *v = 0;
  if (p >= end || *p < '0' || *p > '9') die("bad PPM header");
  while (p < end && *p >= '0' && *p <= '9') {
    *v = *v * 10 + (*p - '0');
    if (*v > 100000) die("bad PPM header");
    ++p;
  }
  return p;
}

static Image load_image(const char *path, int raw_w, int raw_h) {
  Image im;
  long size;
  char *buf = read_file(path, &size);
  const char *p = buf, *end = buf + size;
  size_t need;
  if (raw_w > 0) {
    im.width = raw_w;
    im.height = raw_h;
  } else {
    int maxval;
    if (size < 2 || buf[0] != 'P' || buf[1] != '6') die("not a binary PPM (P6); give WIDTH HEIGHT for raw RGB");
    p = ppm_int(p + 2, end, &im.width);
    p = ppm_int(p, end, &im.height);
    p = ppm_int(p, end, &maxval);
    if (maxval != 255) die("only 8-bit PPM is supported");
    ++p; /* the single whitespace after maxval */
  }
  need = (size_t)im.width * (size_t)im.height * 3;
  if (im.width <= 0 || im.height <= 0 || (size_t)(end - p) < need) die("image data is truncated");
  im.rgb = (unsigned char *)xmalloc(need);
  memcpy(im.rgb, p, need);
  free(buf);
  return im;
}

/* Bilinear resize of the crop [x0, x0+cw) x [y0, y0+ch) of the image (pixels
 * outside the image are black) to out_w x out_h, written as normalised BGR
 * planes. transpose != 0 writes plane[c][x][y] (W/H swapped),
 * else plane[c][y][x]. Sampling uses pixel centres, like OpenCV's INTER_LINEAR. */
static void crop_resize(const Image *im, int x0, int y0, int cw, int ch, int out_w, int out_h, int transpose,
                        float *dst) {
  int x, y, c;
  float sx = (float)cw / (float)out_w, sy = (float)ch / (float)out_h;
  size_t plane = (size_t)out_w * (size_t)out_h;
  for (y = 0; y < out_h; ++y) {
    float fy = ((float)y + 0.5f) * sy - 0.5f;
    int iy0, iy1;
    float wy;
    if (fy < 0) fy = 0;
    iy0 = (int)fy;
    if (iy0 > ch - 1) iy0 = ch - 1;
    iy1 = iy0 + 1 < ch ? iy0 + 1 : ch - 1;
    wy = fy - (float)iy0;
    for (x = 0; x < out_w; ++x) {
      float fx = ((float)x + 0.5f) * sx - 0.5f;
      int ix0, ix1;
      float wx;
      if (fx < 0) fx = 0;
      ix0 = (int)fx;
      if (ix0 > cw - 1) ix0 = cw - 1;
      ix1 = ix0 + 1 < cw ? ix0 + 1 : cw - 1;
      wx = fx - (float)ix0;
      for (c = 0; c < 3; ++c) {
        /* BGR order: plane 0 is blue, i.e. RGB channel 2 */
        int rc = 2 - c;
        float v[4];
        int k;
        int px[4], py[4];
        px[0] = x0 + ix0; py[0] = y0 + iy0;
        px[1] = x0 + ix1; py[1] = y0 + iy0;
        px[2] = x0 + ix0; py[2] = y0 + iy1;
        px[3] = x0 + ix1; py[3] = y0 + iy1;
        for (k = 0; k < 4; ++k) {
          if (px[k] < 0 || py[k] < 0 || px[k] >= im->width || py[k] >= im->height) v[k] = 0.0f;
          else v[k] = (float)im->rgb[((size_t)py[k] * (size_t)im->width + (size_t)px[k]) * 3 + (size_t)rc];
        }
        {
          float top = v[0] + (v[1] - v[0]) * wx, bottom = v[2] + (v[3] - v[2]) * wx;
          float val = top + (bottom - top) * wy;
          size_t at = transpose ? (size_t)x * (size_t)out_h + (size_t)y : (size_t)y * (size_t)out_w + (size_t)x;
          dst[(size_t)c * plane + at] = (val - 127.5f) * 0.0078125f;
        }
      }
    }
  }
}

static void push(BoxList *l, const Box *b) {
  if (l->count == l->capacity) {
    Box *n;
    l->capacity = l->capacity ? l->capacity * 2 : 64;
    n = (Box *)realloc(l->items, (size_t)l->capacity * sizeof(Box));
    if (!n) die("out of memory");
    l->items = n;
  }
  l->items[l->count++] = *b;
}

static int by_score_desc(const void *a, const void *b) {
  float sa = ((const Box *)a)->score, sb = ((const Box *)b)->score;
  return sa < sb ? 1 : sa > sb ? -1 : 0;
}

/* Greedy non-maximum suppression; use_min: overlap over the smaller box ("Min"), else IoU. */
static void nms(BoxList *l, float threshold, int use_min) {
  int i, j, kept = 0;
  char *dead = (char *)xmalloc((size_t)l->count);
  memset(dead, 0, (size_t)l->count);
  qsort(l->items, (size_t)l->count, sizeof(Box), by_score_desc);
  for (i = 0; i < l->count; ++i) {
    Box *a = &l->items[i];
    float area_a;
    if (dead[i]) continue;
    area_a = (a->x2 - a->x1 + 1) * (a->y2 - a->y1 + 1);
    for (j = i + 1; j < l->count; ++j) {
      Box *b = &l->items[j];
      float w, h, inter, area_b, o;
      if (dead[j]) continue;
      w = fminf(a->x2, b->x2) - fmaxf(a->x1, b->x1) + 1;
      h = fminf(a->y2, b->y2) - fmaxf(a->y1, b->y1) + 1;
      if (w <= 0 || h <= 0) continue;
      inter = w * h;
      area_b = (b->x2 - b->x1 + 1) * (b->y2 - b->y1 + 1);
      o = use_min ? inter / fminf(area_a, area_b) : inter / (area_a + area_b - inter);
      if (o > threshold) dead[j] = 1;
    }
  }
  for (i = 0; i < l->count; ++i)
    if (!dead[i]) l->items[kept++] = l->items[i];
  l->count = kept;
  free(dead);
}

/* Bounding-box regression; `plus_one` uses the width convention of stages 2-3. */
static void regress(BoxList *l, int plus_one) {
  int i;
  for (i = 0; i < l->count; ++i) {
    Box *b = &l->items[i];
    float w = b->x2 - b->x1 + (plus_one ? 1.0f : 0.0f), h = b->y2 - b->y1 + (plus_one ? 1.0f : 0.0f);
    b->x1 += b->reg[0] * w;
    b->y1 += b->reg[1] * h;
    b->x2 += b->reg[2] * w;
    b->y2 += b->reg[3] * h;
  }
}

/* Makes every box a square around its centre (side = the longer side), then truncates. */
static void square(BoxList *l) {
  int i;
  for (i = 0; i < l->count; ++i) {
    Box *b = &l->items[i];
    float w = b->x2 - b->x1, h = b->y2 - b->y1, s = w > h ? w : h;
    b->x1 = truncf(b->x1 + w * 0.5f - s * 0.5f);
    b->y1 = truncf(b->y1 + h * 0.5f - s * 0.5f);
    b->x2 = b->x1 + truncf(s);
    b->y2 = b->y1 + truncf(s);
  }
}

typedef struct {
  PredictorHandle handle;
  mx_uint batch, side; /* current input shape (batch, 3, side, side) for R-Net/O-Net */
} Net;

static PredictorHandle create_net(const char *dir, const char *name, mx_uint n, mx_uint h, mx_uint w) {
  char path[4096];
  long sym_size, par_size;
  char *sym, *par;
  const char *keys[1];
  mx_uint indptr[2];
  mx_uint shape[4];
  PredictorHandle out = NULL;
  keys[0] = "data";
  indptr[0] = 0;
  indptr[1] = 4;
  shape[0] = n; shape[1] = 3; shape[2] = h; shape[3] = w;
  snprintf(path, sizeof path, "%s/%s-symbol.json", dir, name);
  sym = read_file(path, &sym_size);
  snprintf(path, sizeof path, "%s/%s-0001.params", dir, name);
  par = read_file(path, &par_size);
  check(MXPredCreate(sym, par, (int)par_size, 1, 0, 1, keys, indptr, shape, &out), "MXPredCreate");
  free(sym);
  free(par);
  return out;
}

/* Gives `*h` the input shape (n, 3, a, b), sharing weights (MXPredReshape) when it changes. */
static void reshape_net(PredictorHandle *h, mx_uint n, mx_uint a, mx_uint b) {
  const char *keys[1];
  mx_uint indptr[2];
  mx_uint shape[4];
  PredictorHandle next = NULL;
  keys[0] = "data";
  indptr[0] = 0;
  indptr[1] = 4;
  shape[0] = n; shape[1] = 3; shape[2] = a; shape[3] = b;
  check(MXPredReshape(1, keys, indptr, shape, *h, &next), "MXPredReshape");
  check(MXPredFree(*h), "MXPredFree");
  *h = next;
}

static float *get_output(PredictorHandle h, mx_uint index, mx_uint *shape_out, mx_uint *ndim_out) {
  mx_uint *shape, ndim, i;
  size_t n = 1;
  float *data;
  check(MXPredGetOutputShape(h, index, &shape, &ndim), "MXPredGetOutputShape");
  for (i = 0; i < ndim; ++i) {
    n *= shape[i];
    if (shape_out) shape_out[i] = shape[i];
  }
  if (ndim_out) *ndim_out = ndim;
  data = (float *)xmalloc(n * sizeof(float));
  check(MXPredGetOutput(h, index, data, (mx_uint)n), "MXPredGetOutput");
  return data;
}

/* Stage 1: P-Net over the image pyramid. */
static BoxList stage1(PredictorHandle *pnet, const Image *im, int min_size, int transpose, float threshold) {
  BoxList all = {NULL, 0, 0};
  float m = 12.0f / (float)min_size;
  float minl = (float)(im->width < im->height ? im->width : im->height) * m;
  float scale = m;
  while (minl >= 12.0f) {
    int hs = (int)ceilf((float)im->height * scale), ws = (int)ceilf((float)im->width * scale);
    float *input = (float *)xmalloc((size_t)3 * (size_t)hs * (size_t)ws * sizeof(float));
    float *reg, *prob;
    mx_uint rshape[4], pshape[4];
    BoxList level = {NULL, 0, 0};
    int i, j;
    crop_resize(im, 0, 0, im->width, im->height, ws, hs, transpose, input);
    if (transpose) reshape_net(pnet, 1, (mx_uint)ws, (mx_uint)hs);
    else reshape_net(pnet, 1, (mx_uint)hs, (mx_uint)ws);
    check(MXPredSetInput(*pnet, "data", input, (mx_uint)(3 * hs * ws)), "MXPredSetInput");
    check(MXPredForward(*pnet), "MXPredForward");
    reg = get_output(*pnet, 0, rshape, NULL);  /* (1, 4, A, B) */
    prob = get_output(*pnet, 1, pshape, NULL); /* (1, 2, A, B) */
    {
      int A = (int)pshape[2], B = (int)pshape[3];
      size_t plane = (size_t)A * (size_t)B;
      for (i = 0; i < A; ++i) {
        for (j = 0; j < B; ++j) {
          size_t at = (size_t)i * (size_t)B + (size_t)j;
          float s = prob[plane + at];
          int gx = transpose ? i : j, gy = transpose ? j : i; /* output cell (x, y) */
          Box b;
          int k;
          if (s <= threshold) continue;
          memset(&b, 0, sizeof b);
          b.x1 = roundf((2.0f * (float)gx + 1.0f) / scale);
          b.y1 = roundf((2.0f * (float)gy + 1.0f) / scale);
          b.x2 = roundf((2.0f * (float)gx + 1.0f + 12.0f) / scale);
          b.y2 = roundf((2.0f * (float)gy + 1.0f + 12.0f) / scale);
          b.score = s;
          for (k = 0; k < 4; ++k) b.reg[k] = reg[(size_t)k * plane + at];
          push(&level, &b);
        }
      }
    }
    nms(&level, 0.5f, 0);
    for (i = 0; i < level.count; ++i) push(&all, &level.items[i]);
    free(level.items);
    free(reg);
    free(prob);
    free(input);
    scale *= 0.709f;
    minl *= 0.709f;
  }
  nms(&all, 0.7f, 0);
  regress(&all, 0);
  square(&all);
  return all;
}

/* Stages 2 and 3: crops of side `side` through R-Net (24) or O-Net (48). */
static void refine(PredictorHandle *net, BoxList *boxes, const Image *im, int side, int transpose, float threshold,
                   int onet) {
  int i, kept = 0;
  size_t per = (size_t)3 * (size_t)side * (size_t)side;
  float *input, *prob, *reg, *pts = NULL;
  if (boxes->count == 0) return;
  input = (float *)xmalloc(per * (size_t)boxes->count * sizeof(float));
  for (i = 0; i < boxes->count; ++i) {
    Box *b = &boxes->items[i];
    int x1 = (int)b->x1, y1 = (int)b->y1;
    int w = (int)(b->x2 - b->x1) + 1, h = (int)(b->y2 - b->y1) + 1;
    if (w < 1) w = 1;
    if (h < 1) h = 1;
    crop_resize(im, x1, y1, w, h, side, side, transpose, input + per * (size_t)i);
  }
  reshape_net(net, (mx_uint)boxes->count, (mx_uint)side, (mx_uint)side);
  check(MXPredSetInput(*net, "data", input, (mx_uint)(per * (size_t)boxes->count)), "MXPredSetInput");
  check(MXPredForward(*net), "MXPredForward");
  if (onet) {
    pts = get_output(*net, 0, NULL, NULL); /* (N, 10) */
    reg = get_output(*net, 1, NULL, NULL); /* (N, 4) */
    prob = get_output(*net, 2, NULL, NULL); /* (N, 2) */
  } else {
    reg = get_output(*net, 0, NULL, NULL);
    prob = get_output(*net, 1, NULL, NULL);
  }
  for (i = 0; i < boxes->count; ++i) {
    Box b = boxes->items[i];
    int k;
    if (prob[2 * i + 1] <= threshold) continue;
    b.score = prob[2 * i + 1];
    for (k = 0; k < 4; ++k) b.reg[k] = reg[4 * i + k];
    if (onet) {
      float w = b.x2 - b.x1 + 1, h = b.y2 - b.y1 + 1;
      for (k = 0; k < 5; ++k) {
        b.pts[k] = b.x1 + w * pts[10 * i + k] - 1;
        b.pts[5 + k] = b.y1 + h * pts[10 * i + 5 + k] - 1;
      }
    }
    boxes->items[kept++] = b;
  }
  boxes->count = kept;
  if (onet) {
    regress(boxes, 1);
    nms(boxes, 0.7f, 1);
  } else {
    nms(boxes, 0.7f, 0);
    regress(boxes, 1);
    square(boxes);
  }
  free(input);
  free(prob);
  free(reg);
  free(pts);
}

int main(int argc, char **argv) {
  const char *dir, *path;
  int raw_w = 0, raw_h = 0, min_size = 20, transpose = 0, i, argi = 3;
  Image im;
  PredictorHandle pnet, rnet, onet;
  BoxList boxes;
  if (argc < 3) {
    fprintf(stderr, "usage: %s <model-dir> <image.ppm | image.rgb WIDTH HEIGHT> [--min-size N] [--transpose]\n", argv[0]);
    return 2;
  }
  dir = argv[1];
  path = argv[2];
  if (argc > 4 && argv[3][0] != '-') {
    raw_w = atoi(argv[3]);
    raw_h = atoi(argv[4]);
    argi = 5;
  }
  for (i = argi; i < argc; ++i) {
    if (strcmp(argv[i], "--min-size") == 0 && i + 1 < argc) min_size = atoi(argv[++i]);
    else if (strcmp(argv[i], "--transpose") == 0) transpose = 1;
    else {
      fprintf(stderr, "mtcnn: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (min_size < 12) min_size = 12;
  im = load_image(path, raw_w, raw_h);
  pnet = create_net(dir, "det1", 1, 12, 12);
  rnet = create_net(dir, "det2", 1, 24, 24);
  onet = create_net(dir, "det3", 1, 48, 48);
  boxes = stage1(&pnet, &im, min_size, transpose, 0.6f);
  refine(&rnet, &boxes, &im, 24, transpose, 0.7f, 0);
  refine(&onet, &boxes, &im, 48, transpose, 0.8f, 1);
  printf("%d face(s) in %s (%dx%d)\n", boxes.count, path, im.width, im.height);
  for (i = 0; i < boxes.count; ++i) {
    const Box *b = &boxes.items[i];
    int k;
    printf("face %.0f %.0f %.0f %.0f %.4f", b->x1, b->y1, b->x2, b->y2, b->score);
    for (k = 0; k < 5; ++k) printf(" %.0f,%.0f", b->pts[k], b->pts[5 + k]);
    printf("\n");
  }
  MXPredFree(pnet);
  MXPredFree(rnet);
  MXPredFree(onet);
  free(boxes.items);
  free(im.rgb);
  return 0;
}
