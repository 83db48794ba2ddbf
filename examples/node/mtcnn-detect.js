#!/usr/bin/env node
// Face detection with the MXNet MTCNN cascade through netlite's TypeScript API.
//
//   npm run build:ts && node examples/node/mtcnn-detect.js ../shared/mxnet/mtcnn photo.jpg [...]
//
// MtcnnDetector loads det1/det2/det3 with Predictor.load({ symbol, params }) - the same
// call loads any MXNet checkpoint - and decodes images with the optional `sharp`.
'use strict';

const { MtcnnDetector } = require('../..');

async function main() {
  const [modelDir, ...images] = process.argv.slice(2);
  if (!modelDir || images.length === 0) {
    process.stderr.write('usage: node examples/node/mtcnn-detect.js <model-dir> <image> [...]\n');
    process.exit(2);
  }
  const detector = await MtcnnDetector.load(modelDir, { minSize: 20 });
  try {
    for (const image of images) {
      const faces = await detector.detect(image);
      console.log(`${faces.length} face(s) in ${image}`);
      for (const f of faces) {
        const marks = f.landmarks.map(([x, y]) => `${Math.round(x)},${Math.round(y)}`).join(' ');
        console.log(`face ${f.x1} ${f.y1} ${f.x2} ${f.y2} ${f.score.toFixed(4)} ${marks}`);
      }
    }
  } finally {
    detector.dispose();
  }
}

main().catch((e) => {
  process.stderr.write(`${e.code ? `${e.code}: ` : ''}${e.message}\n`);
  process.exit(1);
});
