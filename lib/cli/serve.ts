/**
 * `netlite serve <model>`: the classification server from the command line.
 * @packageDocumentation
 * @internal
 */
import * as path from 'path';

import { NetliteError } from '../errors';
import { loadLabels } from '../labels';
import { createClassifyServer } from '../serve/server';
import { CliIo, Command, ParsedArgs } from './args';
import { imageOptionsFrom, loadModel, preprocessOptions, softmaxFrom, threadsOption } from './common';
import { formatBytes } from './format';

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const o = args.options;
  const file = args.positionals[0];
  const labels = o.labels !== undefined ? loadLabels(o.labels as string) : undefined;
  const preprocess = imageOptionsFrom(args);
  const port = (o.port as number | undefined) ?? 8080;
  if (port > 65535) throw new NetliteError('ERR_INVALID_ARGUMENT', `--port must be from 0 to 65535 but received ${port}`);
  const host = (o.host as string | undefined) ?? '127.0.0.1';
  const maxBytes = Math.round(((o['max-upload'] as number | undefined) ?? 10) * 1024 * 1024);
  const predictor = await loadModel(file, (o.threads as number | undefined) ?? 1);
  let server;
  try {
    server = createClassifyServer(predictor, {
      labels,
      top: (o.top as number | undefined) ?? 5,
      maxBytes,
      concurrency: (o.concurrency as number | undefined) ?? 4,
      preprocess,
      output: o.output as string | undefined,
      softmax: softmaxFrom(args),
      modelName: path.basename(file),
    });
  } catch (e) {
    predictor.dispose();
    throw e;
  }
  const listening = server;
  await new Promise<void>((resolve, reject) => {
    listening.once('error', (e: NodeJS.ErrnoException) => {
      predictor.dispose();
      const why = e.code === 'EADDRINUSE' ? `port ${port} is in use (try --port 0 for any free port)` : e.message;
      reject(new NetliteError('ERR_IO', `cannot listen on ${host}:${port}: ${why}`));
    });
    listening.listen(port, host, () => resolve());
  });
  const address = listening.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  io.stdout.write(
    `netlite serve: ${path.basename(file)} on http://${shownHost}:${actualPort}/  ` +
      `(POST /classify, uploads up to ${formatBytes(maxBytes)}; Ctrl-C to stop)\n`,
  );
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    io.stderr.write(`${io.program} serve: warning: listening on ${host}, reachable from other machines\n`);
  }
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      listening.close(() => {
        predictor.dispose();
        resolve(0);
      });
      listening.closeIdleConnections?.();
      setTimeout(() => listening.closeAllConnections?.(), 2000).unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The `serve` command. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve a classifier over HTTP: POST /classify takes an image and answers the top labels as JSON; GET / is a page to try it.',
  usage: '<model> [options]',
  description:
    'Listens on localhost unless --host says otherwise. Send the image bytes as the request body (or as a ' +
    'multipart/form-data file): curl --data-binary @photo.jpg http://127.0.0.1:8080/classify?top=3. Bad images get ' +
    '400, uploads over --max-upload get 413, and requests beyond the queue get 503. GET /info describes the model.',
  options: [
    { name: 'labels', short: 'l', type: 'string', value: 'FILE', description: 'Class names: one per line, synset.txt style, or JSON' },
    { name: 'port', short: 'p', type: 'integer', value: 'N', min: 0, description: 'Port (default 8080; 0 for any free port)' },
    { name: 'host', type: 'string', value: 'HOST', description: 'Address to listen on (default 127.0.0.1)' },
    { name: 'top', short: 'k', type: 'integer', value: 'K', min: 1, description: 'Classes per answer (default 5; a request may ask ?top=K)' },
    { name: 'max-upload', type: 'number', value: 'MIB', min: 0.001, description: 'Largest upload in MiB (default 10)' },
    { name: 'concurrency', short: 'c', type: 'integer', value: 'N', min: 1, description: 'Predictions in flight at once (default 4)' },
    { ...threadsOption, description: 'Threads per prediction (default 1: concurrent requests use the cores)' },
    ...preprocessOptions,
  ],
  examples: [
    'netlite serve mobilenet.onnx --labels labels.txt --port 8080',
    'curl --data-binary @coffee.png http://127.0.0.1:8080/classify',
  ],
  run,
};
