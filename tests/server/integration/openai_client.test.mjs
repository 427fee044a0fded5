// rocmforge serve driven by the official `openai` npm client: chat and text completions, streaming
// and not, seeds, stop strings, logprobs, errors as APIError subclasses, and an aborted stream
// cancelled on the server. Run by openai_test.sh, which starts the servers and sets RF_* variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through openai_test.sh)`);
  return v;
};
const base = `http://127.0.0.1:${env('RF_PORT')}`;
const key = env('RF_KEY');
const model = env('RF_MODEL_NAME');
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: key, maxRetries: 0, timeout: 60_000 });

async function collectChat(stream) {
  const out = { text: '', finish: null, usage: null, role: null, ids: new Set(), chunks: 0 };
  for await (const chunk of stream) {
    out.ids.add(chunk.id);
    out.chunks++;
    if (chunk.usage) out.usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    const c = chunk.choices[0];
    if (c.delta.role) out.role = c.delta.role;
    out.text += c.delta.content ?? '';
    if (c.finish_reason) out.finish = c.finish_reason;
  }
  return out;
}

async function collectText(stream) {
  const out = { text: '', finish: null, usage: null };
  for await (const chunk of stream) {
    if (chunk.usage) out.usage = chunk.usage;
    if (chunk.choices.length === 0) continue;
    out.text += chunk.choices[0].text;
    if (chunk.choices[0].finish_reason) out.finish = chunk.choices[0].finish_reason;
  }
  return out;
}

async function metric(name) {
  const res = await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${key}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`rocmforge_${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

test('models.list names the served file', async () => {
  const page = await client.models.list();
  assert.deepEqual(page.data.map((m) => m.id), [model]);
  assert.equal((await client.models.retrieve(model)).id, model);
});

test('chat completion: message, finish_reason, usage', async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'system', content: 'You tell stories.' }, { role: 'user', content: 'A story about a dog.' }],
    max_tokens: 16, temperature: 0.7, seed: 3,
  });
  assert.equal(r.object, 'chat.completion');
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  if (r.choices[0].finish_reason === 'length') assert.equal(r.usage.completion_tokens, 16);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.equal(typeof r.usage.prompt_tokens_details.cached_tokens, 'number');
});

test('chat streaming gives the non-streamed text for the same seed', async () => {
  const params = { model, messages: [{ role: 'user', content: 'Tell me about the sun.' }], max_tokens: 24, temperature: 0.9, seed: 5 };
  const full = await client.chat.completions.create(params);
  const streamed = await collectChat(await client.chat.completions.create({
    ...params, stream: true, stream_options: { include_usage: true },
  }));
  assert.equal(streamed.role, 'assistant');
  assert.equal(streamed.text, full.choices[0].message.content);
  assert.equal(streamed.finish, full.choices[0].finish_reason);
  assert.equal(streamed.usage.completion_tokens, full.usage.completion_tokens);
  assert.equal(streamed.ids.size, 1);
  assert.ok(streamed.chunks >= 3);
});

test('completions: seeds reproduce, other seeds differ, streaming matches', async () => {
  const params = { model, prompt: 'Once upon a time', max_tokens: 32, temperature: 1.0, seed: 42 };
  const a = await client.completions.create(params);
  const b = await client.completions.create(params);
  const c = await client.completions.create({ ...params, seed: 43 });
  assert.equal(a.object, 'text_completion');
  assert.match(a.id, /^cmpl-/);
  assert.equal(a.choices[0].text, b.choices[0].text);
  assert.notEqual(a.choices[0].text, c.choices[0].text);
  const s = await collectText(await client.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }));
  assert.equal(s.text, a.choices[0].text);
  assert.equal(s.finish, a.choices[0].finish_reason);
  assert.equal(s.usage.total_tokens, a.usage.total_tokens);
});

test('stop strings end the text before them, streamed or not', async () => {
  const params = { model, prompt: 'Once upon a time', max_tokens: 48, temperature: 0 };
  const greedy = (await client.completions.create(params)).choices[0].text;
  const stop = greedy.slice(20, 25);
  const expected = greedy.slice(0, greedy.indexOf(stop));
  const r = await client.completions.create({ ...params, stop: [stop, 'never here'] });
  assert.equal(r.choices[0].text, expected);
  assert.equal(r.choices[0].finish_reason, 'stop');
  const s = await collectText(await client.completions.create({ ...params, stop, stream: true }));
  assert.equal(s.text, expected);
  assert.equal(s.finish, 'stop');
});

test('logprobs: one entry per generated token, with alternatives', async () => {
  const r = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 0.5, seed: 1, logprobs: true, top_logprobs: 3,
  });
  const content = r.choices[0].logprobs.content;
  assert.equal(content.length, r.usage.completion_tokens);
  for (const t of content) {
    assert.ok(t.logprob <= 0);
    assert.equal(t.top_logprobs.length, 3);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[2].logprob);
  }
  const c = await client.completions.create({ model, prompt: 'Once', max_tokens: 6, logprobs: 2, temperature: 0 });
  assert.equal(c.choices[0].logprobs.tokens.length, c.usage.completion_tokens);
  assert.equal(c.choices[0].logprobs.token_logprobs.length, c.usage.completion_tokens);
});

test('errors are APIErrors with OpenAI status, type and param', async () => {
  const expectError = (promise, Class, status, param) => assert.rejects(promise, (e) => {
    assert.ok(e instanceof Class, `${e.constructor.name}: ${e.message}`);
    assert.equal(e.status, status);
    if (param !== undefined) assert.equal(e.param, param);
    return true;
  });
  await expectError(client.chat.completions.create({ model, messages: [] }), OpenAI.BadRequestError, 400, 'messages');
  await expectError(client.completions.create({ model, prompt: 'x', max_tokens: 'ten' }), OpenAI.BadRequestError, 400, 'max_tokens');
  await expectError(client.completions.create({ model, prompt: 'x', n: 2 }), OpenAI.BadRequestError, 400, 'n');
  await expectError(client.completions.create({ model, prompt: 'x', temperature: -1 }), OpenAI.BadRequestError, 400, 'temperature');
  await expectError(client.completions.create({ model, prompt: Array(5000).fill(1) }), OpenAI.BadRequestError, 400, 'prompt');
  await expectError(client.completions.create({ model, prompt: 'x'.repeat(1_500_000) }), OpenAI.APIError, 413);
  await expectError(client.models.retrieve('no-such-model'), OpenAI.NotFoundError, 404);
  const stranger = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong-key', maxRetries: 0 });
  await expectError(stranger.completions.create({ model, prompt: 'x' }), OpenAI.AuthenticationError, 401);
});

test('a full queue answers 429 (RateLimitError)', async () => {
  const busy = new OpenAI({ baseURL: `http://127.0.0.1:${env('RF_BUSY_PORT')}/v1`, apiKey: 'unused', maxRetries: 0 });
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) =>
    busy.completions.create({ model, prompt: 'Once upon a time', max_tokens: 1500, temperature: 1, seed: i })));
  const limited = results.filter((r) => r.status === 'rejected');
  assert.ok(limited.length >= 1, 'some requests are refused');
  for (const r of limited) {
    assert.ok(r.reason instanceof OpenAI.RateLimitError, String(r.reason));
    assert.equal(r.reason.status, 429);
    assert.ok(Number(r.reason.headers.get('retry-after')) >= 1);
  }
  assert.ok(results.some((r) => r.status === 'fulfilled'));
});

test('aborting a stream cancels the request on the server', async () => {
  const before = await metric('client_disconnects_total');
  const controller = new AbortController();
  const stream = await client.completions.create(
    { model, prompt: 'Once upon a time', max_tokens: 2000, temperature: 1, seed: 9, stream: true },
    { signal: controller.signal });
  for await (const chunk of stream) {
    assert.equal(typeof chunk.choices[0].text, 'string');
    controller.abort();
    break;
  }
  let cancelled = false;
  for (let i = 0; i < 50 && !cancelled; i++) {
    cancelled = (await metric('client_disconnects_total')) === before + 1 && (await metric('requests_running')) === 0;
    if (!cancelled) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(cancelled, 'the server counted the disconnect and freed the request');
});
