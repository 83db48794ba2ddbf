// The classification server for real: `netlite serve` spawned on a free localhost port (--port 0)
// with the int8 MobileNet, exercised over HTTP (concurrent requests, multipart, a bad upload →
// 400, oversized uploads → 413 with and without Content-Length, wrong method/path), then its
// page opened in headless Chromium (Debian's /usr/bin/chromium through playwright-core) to
// upload coffee.png and read the bars; the screenshot goes to test/artifacts/serve-page.png.
// Also the in-process API (createClassifyServer) for the busy queue (503).
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

import { Predictor, createClassifyServer, loadLabels } from '../lib';

const root = path.resolve(__dirname, '..');
const shared = path.resolve(root, '../shared');
const images = path.join(shared, 'images');
const realDir = path.join(shared, 'real', 'mobilenet_v2_1.0_224_int8');
const int8Model = path.join(realDir, 'mobilenet_v2_1.0_224_int8_per_tensor.onnx');
const labelsFile = path.join(realDir, 'labels_imagenet_2012.txt');
const haveInt8 = fs.existsSync(int8Model) && fs.existsSync(path.join(images, 'coffee.png'));
const chromiumPath = '/usr/bin/chromium';
const haveChromium = fs.existsSync(chromiumPath);
const artifacts = path.join(root, 'test', 'artifacts');

if (!haveChromium) {
  // eslint-disable-next-line no-console
  console.warn(`serve.test.ts: ${chromiumPath} is absent, so the browser test is skipped (apt-get install chromium).`);
}

interface Answer {
  status: number;
  json: { error?: string; predictions?: { index: number; label: string; score: number }[]; timeMs?: Record<string, number> } & Record<string, unknown>;
  headers: Headers;
}

type Body = NonNullable<RequestInit['body']>;

async function post(url: string, body: Body, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body, ...init } as RequestInit);
  return { status: res.status, json: (await res.json()) as Answer['json'], headers: res.headers };
}

/** Starts `netlite serve` and resolves to its base URL once it prints it. */
function startServer(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'netlite.js'), 'serve', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${out}`)), 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], output: () => out });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}: ${out}`));
    });
  });
}

(haveInt8 ? describe : describe.skip)('netlite serve', () => {
  let server: { child: ChildProcess; url: string; output: () => string };
  const coffee = fs.existsSync(path.join(images, 'coffee.png')) ? fs.readFileSync(path.join(images, 'coffee.png')) : Buffer.alloc(0);
  const chelsea = fs.existsSync(path.join(images, 'chelsea.png')) ? fs.readFileSync(path.join(images, 'chelsea.png')) : Buffer.alloc(0);
  const cats = ['tabby', 'tiger cat', 'Egyptian cat'];

  beforeAll(async () => {
    server = await startServer([int8Model, '--labels', labelsFile, '--port', '0', '--max-upload', '1', '--threads', '1', '--top', '3']);
  });
  afterAll(async () => {
    if (!server) return;
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await exited;
  });

  test('listens on localhost only, on the free port it was given', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(server.output()).toContain('uploads up to 1.0 MiB');
  });

  test('POST /classify: espresso for coffee.png, a cat for chelsea.png, with timings', async () => {
    const a = await post(`${server.url}classify`, coffee, { headers: { 'Content-Type': 'image/png' } });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(a.json.predictions).toHaveLength(3);
    expect(a.json.predictions?.[0]).toMatchObject({ index: 967, label: 'espresso' });
    expect(a.json.timeMs?.inference).toBeGreaterThan(0);
    const b = await post(`${server.url}classify?top=1`, chelsea);
    expect(b.json.predictions).toHaveLength(1);
    expect(cats).toContain(b.json.predictions?.[0].label);
  });

  test('concurrent requests all succeed with the right answers', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => (i % 2 ? chelsea : coffee));
    const answers = await Promise.all(bodies.map((b) => post(`${server.url}classify?top=1`, b)));
    answers.forEach((a, i) => {
      expect(a.status).toBe(200);
      const label = a.json.predictions?.[0].label as string;
      if (i % 2) expect(cats).toContain(label);
      else expect(label).toBe('espresso');
    });
  });

  test('a multipart/form-data upload (curl -F, an HTML form)', async () => {
    const form = new FormData();
    form.append('note', 'not the file');
    form.append('image', new Blob([coffee], { type: 'image/png' }), 'coffee.png');
    const a = await post(`${server.url}classify`, form);
    expect(a.status).toBe(200);
    expect(a.json.predictions?.[0].label).toBe('espresso');
  });

  test('bad uploads get 400 with a message', async () => {
    const junk = await post(`${server.url}classify`, Buffer.from('plain text, not an image'));
    expect(junk.status).toBe(400);
    expect(junk.json.error).toMatch(/Cannot decode the upload: not a JPEG, PNG, WebP/);
    const fakeGif = await post(`${server.url}classify`, Buffer.from('GIF89a but no frames'));
    expect(fakeGif.status).toBe(400);
    expect(fakeGif.json.error).toMatch(/Cannot decode the upload: .*GIF/);
    const truncated = await post(`${server.url}classify`, coffee.subarray(0, 2000));
    expect(truncated.status).toBe(400);
    expect(truncated.json.error).toMatch(/Cannot decode/);
    const empty = await post(`${server.url}classify`, Buffer.alloc(0));
    expect(empty.status).toBe(400);
    expect(empty.json.error).toMatch(/no image/);
    const badTop = await post(`${server.url}classify?top=0`, coffee);
    expect(badTop.status).toBe(400);
  });

  test('oversized uploads get 413, declared or streamed, and the server carries on', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 7);
    const declared = await post(`${server.url}classify`, big);
    expect(declared.status).toBe(413);
    expect(declared.json.error).toMatch(/limit is 1048576/);
    // Chunked: no Content-Length, so the limit is found while reading.
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 1));
    const stream = new ReadableStream({
      pull(controller) {
        const c = chunks.shift();
        if (c) controller.enqueue(c);
        else controller.close();
      },
    });
    const streamed = await post(`${server.url}classify`, stream as unknown as Body, { duplex: 'half' } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(streamed.json.error).toMatch(/over the limit/);
    const after = await post(`${server.url}classify?top=1`, coffee);
    expect(after.json.predictions?.[0].label).toBe('espresso');
  });

  test('other routes: 405, 404, /info, /healthz', async () => {
    const get = await fetch(`${server.url}classify`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${server.url}nothing`)).status).toBe(404);
    const info = await (await fetch(`${server.url}info`)).json();
    expect(info).toMatchObject({ classes: 1000, top: 3, maxBytes: 1024 * 1024, input: { preprocessing: 'uint8 NHWC [N,224,224,3] RGB, raw 0-255, crop' } });
    expect(await (await fetch(`${server.url}healthz`)).json()).toEqual({ ok: true });
    const page = await fetch(server.url);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-/);
    expect(await page.text()).toContain('mobilenet_v2_1.0_224_int8_per_tensor.onnx');
  });

  (haveChromium ? test : test.skip)(
    'the page in headless Chromium: upload coffee.png, see espresso on top; a bad file shows the error',
    async () => {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { chromium } = require('playwright-core') as typeof import('playwright-core');
      const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'netlite-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: chromiumPath,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
        viewport: { width: 900, height: 620 },
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        await page.goto(server.url);
        // The inline script ran (the CSP allowed it by hash).
        await page.waitForSelector('body[data-state="ready"]', { timeout: 10_000 });
        await page.setInputFiles('#file', path.join(images, 'coffee.png'));
        await page.waitForSelector('body[data-state="done"]', { timeout: 30_000 });
        const labels = await page.$$eval('#results .label', (els) => els.map((e) => e.textContent));
        expect(labels).toHaveLength(3);
        expect(labels[0]).toBe('espresso');
        const style = (await page.getAttribute('#results .bar', 'style')) ?? '';
        expect(parseFloat(/width:\s*([\d.]+)%/.exec(style)?.[1] ?? '0')).toBeGreaterThan(80);
        expect(await page.textContent('#status')).toMatch(/coffee\.png: [\d.]+ ms inference/);
        fs.mkdirSync(artifacts, { recursive: true });
        const shot = path.join(artifacts, 'serve-page.png');
        await page.screenshot({ path: shot, fullPage: true });
        expect(fs.statSync(shot).size).toBeGreaterThan(5000);

        const bad = path.join(profile, 'notes.png');
        fs.writeFileSync(bad, 'not a png');
        await page.setInputFiles('#file', bad);
        await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
        expect(await page.textContent('#status')).toMatch(/Cannot decode the upload/);
        expect(await page.$$('#results li')).toHaveLength(0);
        // Drag and drop: a DataTransfer holding chelsea.png dropped on the zone.
        const b64 = fs.readFileSync(path.join(images, 'chelsea.png')).toString('base64');
        const dataTransfer = await page.evaluateHandle(`(() => {
          const bin = atob(${JSON.stringify(b64)});
          const bytes = new Uint8Array(bin.length);
          for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], 'chelsea.png', { type: 'image/png' }));
          return dt;
        })()`);
        await page.dispatchEvent('#drop', 'drop', { dataTransfer });
        await page.waitForSelector('body[data-state="done"]', { timeout: 30_000 });
        expect(cats).toContain(await page.textContent('#results .label'));
        // The 400 above is the only console error (the browser logs failed requests).
        expect(problems.filter((p) => !/status of 400/.test(p))).toEqual([]);
      } finally {
        await context.close();
        fs.rmSync(profile, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

(haveInt8 ? describe : describe.skip)('createClassifyServer in-process', () => {
  test('requests beyond the concurrency and the queue get 503, the rest are answered', async () => {
    const predictor = await Predictor.load(int8Model, { threads: 1 });
    const server: http.Server = createClassifyServer(predictor, { labels: loadLabels(labelsFile), concurrency: 1, queue: 1, top: 1 });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const coffee = fs.readFileSync(path.join(images, 'coffee.png'));
      const answers = await Promise.all(Array.from({ length: 6 }, () => post(`http://127.0.0.1:${port}/classify`, coffee)));
      const codes = answers.map((a) => a.status).sort();
      expect(codes.filter((c) => c === 200).length).toBeGreaterThanOrEqual(2);
      expect(codes.every((c) => c === 200 || c === 503)).toBe(true);
      const busy = answers.find((a) => a.status === 503);
      if (busy) expect(busy.headers.get('retry-after')).toBe('1');
      for (const a of answers.filter((x) => x.status === 200)) expect(a.json.predictions?.[0].label).toBe('espresso');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      predictor.dispose();
    }
  });

  test('bad options are refused up front', async () => {
    const predictor = await Predictor.load(int8Model, { threads: 1 });
    try {
      expect(() => createClassifyServer(predictor, { top: 0 })).toThrow(/top/);
      expect(() => createClassifyServer(predictor, { output: 'nope' })).toThrow(/no output 'nope'/);
      expect(() => createClassifyServer(predictor, { preprocess: { normalize: 'imagenet' } })).toThrow(/raw/);
    } finally {
      predictor.dispose();
    }
  });
});
