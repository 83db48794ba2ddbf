/**
 * The page `netlite serve` shows at `/`: drop (or pick, or paste) an image, see the top
 * labels as bars. One self-contained HTML document; kept in TypeScript so `tsc` ships it.
 * The script and style are constants so the server can allow them by hash in its CSP.
 * @packageDocumentation
 * @internal
 */

/** The page's style sheet. */
export const pageCss = `
:root { color-scheme: light dark; --accent: #2f6fde; --muted: #888; --bar-bg: rgba(127,127,127,.15); }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 760px; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
.sub { color: var(--muted); margin: 0 0 1.2rem; font-size: .9rem; }
#drop { display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .4rem;
  min-height: 170px; border: 2px dashed var(--muted); border-radius: 12px; padding: 1rem; cursor: pointer; text-align: center; }
#drop.over { border-color: var(--accent); background: rgba(47,111,222,.08); }
#drop input { display: none; }
.main { display: grid; grid-template-columns: minmax(0, 240px) 1fr; gap: 1.2rem; margin-top: 1.2rem; align-items: start; }
#preview { width: 100%; border-radius: 8px; display: none; }
#status { color: var(--muted); min-height: 1.4em; margin: .2rem 0 .6rem; }
#status.error { color: #d33; }
ol#results { list-style: none; padding: 0; margin: 0; }
#results li { margin: 0 0 .55rem; }
.row { display: flex; justify-content: space-between; gap: 1rem; }
.label { font-weight: 600; overflow-wrap: anywhere; }
.score { font-variant-numeric: tabular-nums; color: var(--muted); }
.track { height: 10px; background: var(--bar-bg); border-radius: 5px; overflow: hidden; margin-top: .15rem; }
.bar { height: 100%; background: var(--accent); border-radius: 5px; }
@media (max-width: 560px) { .main { grid-template-columns: 1fr; } }
`;

/** The page's script: reads its settings from data attributes on <body>. */
export const pageScript = `
(function () {
  var body = document.body;
  var maxBytes = Number(body.dataset.maxBytes);
  var top = Number(body.dataset.top);
  var drop = document.getElementById('drop');
  var input = document.getElementById('file');
  var preview = document.getElementById('preview');
  var status = document.getElementById('status');
  var results = document.getElementById('results');
  var lastUrl = null;

  function setStatus(text, isError) {
    status.textContent = text;
    status.className = isError ? 'error' : '';
  }

  function show(predictions) {
    results.textContent = '';
    var best = predictions.length ? predictions[0].score : 1;
    predictions.forEach(function (p) {
      var li = document.createElement('li');
      var row = document.createElement('div');
      row.className = 'row';
      var label = document.createElement('span');
      label.className = 'label';
      label.textContent = p.label;
      var score = document.createElement('span');
      score.className = 'score';
      score.textContent = (p.score * 100).toFixed(1) + '%';
      row.appendChild(label);
      row.appendChild(score);
      var track = document.createElement('div');
      track.className = 'track';
      var bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.width = Math.max(0.5, Math.min(100, p.score * 100)).toFixed(1) + '%';
      bar.setAttribute('data-label', p.label);
      bar.setAttribute('data-score', String(p.score));
      track.appendChild(bar);
      li.appendChild(row);
      li.appendChild(track);
      results.appendChild(li);
    });
  }

  function classify(file) {
    if (!file) return;
    if (file.size > maxBytes) {
      setStatus(file.name + ' is ' + file.size + ' bytes; the limit is ' + maxBytes + '.', true);
      return;
    }
    if (lastUrl) URL.revokeObjectURL(lastUrl);
    lastUrl = URL.createObjectURL(file);
    preview.src = lastUrl;
    preview.style.display = 'block';
    results.textContent = '';
    setStatus('Classifying ' + (file.name || 'image') + '...', false);
    body.setAttribute('data-state', 'busy');
    fetch('classify?top=' + top, {
      method: 'POST',
      headers: { 'Content-Type': file.type || 'application/octet-stream' },
      body: file
    }).then(function (res) {
      return res.json().then(function (json) {
        if (!res.ok) throw new Error(json.error || ('HTTP ' + res.status));
        return json;
      }, function () { throw new Error('HTTP ' + res.status); });
    }).then(function (json) {
      show(json.predictions);
      setStatus((file.name || 'image') + ': ' + json.timeMs.inference.toFixed(1) + ' ms inference, ' +
        json.timeMs.total.toFixed(1) + ' ms in all', false);
      body.setAttribute('data-state', 'done');
    }).catch(function (e) {
      setStatus(e.message, true);
      body.setAttribute('data-state', 'error');
    });
  }

  input.addEventListener('change', function () { classify(input.files[0]); });
  drop.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); input.click(); } });
  ['dragenter', 'dragover'].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add('over'); });
  });
  ['dragleave', 'drop'].forEach(function (t) {
    drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove('over'); });
  });
  drop.addEventListener('drop', function (e) { classify(e.dataTransfer.files[0]); });
  document.addEventListener('paste', function (e) {
    var items = e.clipboardData ? e.clipboardData.files : [];
    if (items.length) classify(items[0]);
  });
  body.setAttribute('data-state', 'ready');
})();
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page, for one model. */
export function pageHtml(options: { modelName: string; top: number; maxBytes: number }): string {
  const name = escapeHtml(options.modelName);
  const mib = (options.maxBytes / 1024 / 1024).toFixed(options.maxBytes >= 10 * 1024 * 1024 ? 0 : 1);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>netlite: ${name}</title>
<style>${pageCss}</style>
</head>
<body data-top="${options.top}" data-max-bytes="${options.maxBytes}" data-state="loading">
<h1>netlite image classifier</h1>
<p class="sub">${name}: top ${options.top} classes. Images stay on this server's machine.</p>
<label id="drop" tabindex="0" aria-label="Choose an image to classify">
  <strong>Drop an image here</strong>
  <span>or click to choose one, or paste it (JPEG, PNG, WebP; up to ${mib} MiB)</span>
  <input id="file" type="file" accept="image/*">
</label>
<div class="main">
  <img id="preview" alt="The image being classified">
  <div>
    <div id="status" role="status" aria-live="polite"></div>
    <ol id="results" aria-label="Top classes"></ol>
  </div>
</div>
<script>${pageScript}</script>
</body>
</html>
`;
}
