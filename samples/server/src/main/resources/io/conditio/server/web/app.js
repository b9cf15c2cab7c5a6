// The Conditio page: a plain client of the native API (/v1). No build step, no dependencies.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { running: null, key: sessionStorage.getItem('conditio.key') || '', gallery: [] };

function headers(extra) {
  const h = Object.assign({}, extra || {});
  if (state.key) h['Authorization'] = 'Bearer ' + state.key;
  return h;
}

async function api(path, options) {
  const opts = Object.assign({}, options || {});
  opts.headers = headers(opts.headers);
  const r = await fetch(path, opts);
  if (r.status === 401) {
    $('key-box').hidden = false;
    throw new Error('this server needs an API key: enter it above');
  }
  return r;
}

async function json(path, options) {
  const r = await api(path, options);
  const body = await r.json();
  if (!r.ok) {
    const e = new Error(body.error || ('HTTP ' + r.status));
    e.status = r.status;
    e.retryAfter = r.headers.get('Retry-After');
    throw e;
  }
  return body;
}

function status(text, error) {
  $('status').textContent = text;
  $('status').className = error ? 'error' : 'muted';
}

// ---- controls generated from the declared parameters (JSON Schema) ----

function isImage(schema) {
  return schema && schema.type === 'string' && String(schema.contentMediaType || '').startsWith('image/');
}

function readFile(input) {
  return new Promise((resolve, reject) => {
    const f = input.files && input.files[0];
    if (!f) { resolve(null); return; }
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(f);
  });
}

// A parameter that takes one value or a list (JSON Schema anyOf [item, array]) gets the control of one value.
function single(schema) {
  if (schema && Array.isArray(schema.anyOf) && schema.anyOf.length) {
    return Object.assign({ description: schema.description, default: schema.default }, schema.anyOf[0]);
  }
  return schema;
}

function control(name, schema, path) {
  schema = single(schema);
  const id = 'p-' + path.replace(/[^a-z0-9]+/gi, '-');
  const label = document.createElement('label');
  label.textContent = name + (schema.description ? ' — ' + schema.description : '');
  let input;
  if (isImage(schema)) {
    input = document.createElement('input');
    input.type = 'file';
    input.accept = 'image/*';
    const thumb = document.createElement('img');
    thumb.className = 'thumb';
    thumb.hidden = true;
    input.addEventListener('change', async () => {
      const url = await readFile(input);
      thumb.src = url || '';
      thumb.hidden = !url;
    });
    label.append(input, thumb);
    input.dataset.kind = 'image';
  } else if (Array.isArray(schema.enum)) {
    input = document.createElement('select');
    if (schema.default === undefined) {
      // a choice with no default stays unset (and is not sent) until the user picks one
      const unset = document.createElement('option');
      unset.value = '';
      unset.textContent = '(unset)';
      input.append(unset);
    }
    for (const v of schema.enum) {
      const o = document.createElement('option');
      o.value = v;
      o.textContent = v;
      input.append(o);
    }
    if (schema.default !== undefined) input.value = schema.default;
    label.append(input);
    input.dataset.kind = 'string';
  } else if (schema.type === 'number' || schema.type === 'integer') {
    input = document.createElement('input');
    input.type = 'number';
    if (schema.minimum !== undefined) input.min = schema.minimum;
    if (schema.maximum !== undefined) input.max = schema.maximum;
    input.step = schema.type === 'integer' ? '1' : 'any';
    input.placeholder = schema.default !== undefined ? String(schema.default) : 'unset';
    label.append(input);
    input.dataset.kind = schema.type;
  } else if (schema.type === 'boolean') {
    input = document.createElement('input');
    input.type = 'checkbox';
    input.checked = !!schema.default;
    label.prepend(input);
    input.dataset.kind = 'boolean';
    input.dataset.default = String(!!schema.default);
  } else if (schema.type === 'array') {
    // a list of numbers or words, typed comma-separated
    input = document.createElement('input');
    input.type = 'text';
    input.placeholder = 'comma-separated ' + ((schema.items && schema.items.type) || 'values');
    label.append(input);
    input.dataset.kind = 'list';
    input.dataset.items = (schema.items && schema.items.type) || 'string';
  } else {
    input = document.createElement('input');
    input.type = 'text';
    label.append(input);
    input.dataset.kind = 'string';
  }
  input.id = id;
  input.dataset.param = path;
  return label;
}

function buildConditioning(schema) {
  const box = $('conditioning');
  box.textContent = '';
  const props = (schema && schema.properties) || {};
  for (const [name, s] of Object.entries(props)) {
    if (s.type === 'array' && s.items && s.items.type === 'object' && s.items.properties) {
      const fs = document.createElement('fieldset');
      const legend = document.createElement('legend');
      const use = document.createElement('input');
      use.type = 'checkbox';
      use.dataset.group = name;
      use.id = 'use-' + name;
      legend.append(use, ' ' + name + (s.description ? ' — ' + s.description : ''));
      fs.append(legend);
      for (const [k, ks] of Object.entries(s.items.properties || {})) {
        fs.append(control(k, ks, name + '.' + k));
      }
      box.append(fs);
    } else {
      box.append(control(name, s, name));
    }
  }
}

function valueOf(input) {
  switch (input.dataset.kind) {
    case 'boolean': return input.checked;
    case 'integer': return input.value === '' ? null : parseInt(input.value, 10);
    case 'number': return input.value === '' ? null : parseFloat(input.value);
    case 'list': {
      if (input.value.trim() === '') return null;
      const parts = input.value.split(',').map((x) => x.trim());
      const t = input.dataset.items;
      return t === 'integer' ? parts.map((x) => parseInt(x, 10))
        : t === 'number' ? parts.map(parseFloat) : parts;
    }
    default: return input.value === '' ? null : input.value;
  }
}

// The parameters as JSON, and the chosen image files as parts named by their parameter (init_image,
// controlnets[0].image): they travel as multipart/form-data, as bytes, never base64 in the JSON.
function parameters() {
  const out = {};
  const files = [];
  const groups = {};
  const groupFiles = {};
  for (const input of document.querySelectorAll('#conditioning [data-param]')) {
    const path = input.dataset.param;
    const dot = path.indexOf('.');
    const g = dot > 0 ? path.slice(0, dot) : null;
    if (input.dataset.kind === 'image') {
      const f = input.files && input.files[0];
      if (!f) continue;
      if (g) (groupFiles[g] = groupFiles[g] || []).push([g + '[0].' + path.slice(dot + 1), f]);
      else files.push([path, f]);
      continue;
    }
    const v = valueOf(input);
    if (v === null || v === undefined) continue;
    if (g) {
      (groups[g] = groups[g] || {})[path.slice(dot + 1)] = v;
    } else if (input.dataset.kind !== 'boolean' || String(v) !== input.dataset.default) {
      out[path] = v; // a checkbox is sent when it differs from the declared default
    }
  }
  for (const use of document.querySelectorAll('#conditioning [data-group]')) {
    const g = use.dataset.group;
    if (!use.checked) continue;
    out[g] = [groups[g] || {}];
    files.push(...(groupFiles[g] || []));
  }
  return { values: out, files };
}

// ---- generation ----

function recipe() {
  const r = { prompt: $('prompt').value, negative_prompt: $('negative').value, model: $('model').value || null };
  const num = (id, key, int) => {
    const v = $(id).value;
    if (v !== '') r[key] = int ? parseInt(v, 10) : parseFloat(v);
  };
  num('width', 'width', true);
  num('height', 'height', true);
  num('steps', 'steps', true);
  num('guidance', 'guidance_scale', false);
  num('seed', 'seed', true);
  if ($('scheduler').value) r.scheduler = $('scheduler').value;
  const p = parameters();
  if (Object.keys(p.values).length) r.parameters = p.values;
  return { recipe: r, files: p.files };
}

function request() {
  const { recipe: r, files } = recipe();
  if (!files.length) {
    return { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(r) };
  }
  const form = new FormData();
  form.append('recipe', JSON.stringify(r));
  for (const [name, file] of files) form.append(name, file, file.name);
  return { method: 'POST', body: form }; // the browser sets the multipart boundary
}

async function events(id, onEvent) {
  // fetch rather than EventSource, so the API key travels in a header and never in the URL
  const r = await api('/v1/generations/' + id + '/events', { headers: { Accept: 'text/event-stream' } });
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let type = null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line.startsWith('event:')) type = line.slice(6).trim();
      else if (line.startsWith('data:') && type) {
        const stop = onEvent(type, JSON.parse(line.slice(5)));
        if (stop) { reader.cancel(); return; }
      }
    }
  }
}

async function generate(ev) {
  ev.preventDefault();
  if (state.running) return;
  $('generate').disabled = true;
  $('progress').value = 0;
  $('settings').textContent = '';
  $('preview').hidden = true;
  try {
    const created = await json('/v1/generations', request());
    state.running = created.id;
    $('cancel').disabled = false;
    status('queued');
    await events(created.id, (type, data) => {
      if (type === 'queued') status('queued, position ' + data.position);
      else if (type === 'started') status('started');
      else if (type === 'step') {
        $('progress').value = data.progress;
        status('step ' + data.step + ' / ' + data.total_steps);
        if (data.preview) { $('preview').src = data.preview; $('preview').hidden = false; }
      } else if (type === 'done') { finished(created.id); return true; }
      else if (type === 'failed') { status('failed: ' + data.error, true); return true; }
      else if (type === 'cancelled') { status('cancelled'); return true; }
      return false;
    });
  } catch (e) {
    status(e.message + (e.retryAfter ? ' (retry in ' + e.retryAfter + ' s)' : ''), true);
  } finally {
    state.running = null;
    $('generate').disabled = false;
    $('cancel').disabled = true;
  }
}

async function finished(id) {
  const job = await json('/v1/generations/' + id);
  const image = await api('/v1/generations/' + id + '/image');
  const url = URL.createObjectURL(await image.blob());
  const settings = job.outputs.length ? job.outputs[0].parameters : '';
  show(url, settings);
  $('progress').value = 1;
  status('done');
  state.gallery.push({ url, settings });
  const thumb = document.createElement('img');
  thumb.src = url;
  thumb.alt = settings.split('\n')[0];
  thumb.title = settings;
  thumb.addEventListener('click', () => show(url, settings));
  $('gallery').prepend(thumb);
}

function show(url, settings) {
  $('result').src = url;
  $('result').hidden = false;
  $('settings').textContent = settings;
}

async function cancel() {
  if (!state.running) return;
  $('cancel').disabled = true;
  try {
    await json('/v1/generations/' + state.running, { method: 'DELETE' });
  } catch (e) {
    status(e.message, true);
  }
}

async function load() {
  try {
    const [models, schedulers, plugins] = await Promise.all([json('/v1/models'), json('/v1/schedulers'),
      json('/v1/plugins')]);
    $('model').textContent = '';
    $('scheduler').length = 1;
    for (const m of models) {
      const o = document.createElement('option');
      o.value = m.name;
      o.textContent = m.name;
      if (m.default) o.selected = true;
      $('model').append(o);
    }
    for (const s of schedulers) {
      const o = document.createElement('option');
      o.value = s.name;
      o.textContent = s.name + ' (' + s.class_name + ')';
      $('scheduler').append(o);
    }
    buildConditioning(plugins.parameters);
    $('server-info').textContent = plugins.plugins.length + ' plugins, max ' + plugins.limits.maxSteps + ' steps';
    document.body.dataset.ready = 'true';
  } catch (e) {
    status(e.message, true);
  }
}

$('form').addEventListener('submit', generate);
$('cancel').addEventListener('click', cancel);
$('api-key').value = state.key;
$('api-key').addEventListener('change', () => {
  state.key = $('api-key').value;
  sessionStorage.setItem('conditio.key', state.key);
  load();
});
load();
