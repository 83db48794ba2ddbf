// netlite adapter for the ONNX conformance harness (../shared/conformance/run-onnx-node.mjs).
// Uses only netlite's public API: load the case's model, feed its inputs by name,
// return the outputs in graph-output order.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Predictor, Tensor } = require('../../dist/cjs/index.js');

export default async function run(modelPath, inputs) {
  const predictor = await Predictor.load(modelPath, { threads: 1 });
  try {
    const feeds = {};
    for (const input of inputs) feeds[input.name] = new Tensor(input.type, input.data, input.dims);
    const results = await predictor.predict(feeds);
    return predictor.outputs.map(({ name }) => {
      const t = results[name];
      return { dims: [...t.dims], data: t.data, type: t.type };
    });
  } finally {
    predictor.dispose();
  }
}
