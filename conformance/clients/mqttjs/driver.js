#!/usr/bin/env node
// Client driver (docs/client-drivers.md) for MQTT.js, at the release package-lock.json pins.
// Actions come on stdin, one per line, and run one at a time (connect waits for its outcome);
// what the application sees goes to stdout, one event per line. Automatic reconnection is off
// (reconnectPeriod 0): a later `connect` reconnects the same client object with the same message
// stores, as an application that keeps its Session does (MQTT.js's reconnect() makes new, empty
// stores unless it is given the old ones).
'use strict';

const mqtt = require('mqtt');
const readline = require('readline');

const POSITIONAL = { publish: 3, subscribe: 2, unsubscribe: 1, wait: 1 };

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const host = arg('--host', '127.0.0.1');
const port = Number(arg('--port', '1883'));
const defaultId = arg('--client-id', '');
const v5 = ['5', '5.0'].includes(arg('--version', '5.0'));

function emit(line) {
  process.stdout.write(line + '\n');
}

// "%XX" -> byte, for any byte; "-" alone is the empty string.
function dec(word) {
  const out = [];
  for (let i = 0; i < word.length; i++) {
    if (word[i] === '%' && /^[0-9a-fA-F]{2}$/.test(word.substr(i + 1, 2))) {
      out.push(parseInt(word.substr(i + 1, 2), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(word[i], 'utf8'));
    }
  }
  return Buffer.from(out);
}

function enc(data) {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'utf8');
  let s = '';
  for (const b of bytes) s += b > 0x20 && b < 0x7f && b !== 0x25 && b !== 0x3d ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  return s;
}

function parse(line) {
  const words = line.split(' ').filter((w) => w.length > 0);
  const verb = words.shift();
  const args = [];
  const opts = {};
  for (const w of words) {
    const eq = w.indexOf('=');
    if (args.length < (POSITIONAL[verb] || 0) || eq < 0) args.push(w === '-' ? Buffer.alloc(0) : dec(w));
    else opts[w.slice(0, eq)] = dec(w.slice(eq + 1));
  }
  return { verb, args, opts };
}

// The application's text: UTF-8 as far as it is valid, a lone surrogate where the bytes encode one.
function text(buf) {
  let s = '';
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    if (b === 0xed && i + 2 < buf.length && buf[i + 1] >= 0xa0 && buf[i + 1] <= 0xbf) {
      s += String.fromCharCode(0xd000 | ((buf[i + 1] & 0x3f) << 6) | (buf[i + 2] & 0x3f));
      i += 3;
      continue;
    }
    let n = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    s += buf.slice(i, i + n).toString('utf8');
    i += n;
  }
  return s;
}

let client = null;
const stores = { incomingStore: new mqtt.Store(), outgoingStore: new mqtt.Store() };
let ending = false;
let connecting = null; // resolves the pending connect action

function num(v, fallback) {
  return v === undefined ? fallback : Number(v.toString());
}

function connect(opts) {
  const clean = num(opts.clean, 1) === 1;
  const options = {
    host,
    port,
    protocol: 'mqtt',
    protocolVersion: v5 ? 5 : 4,
    clientId: opts['client-id'] !== undefined ? text(opts['client-id']) : defaultId,
    clean,
    keepalive: num(opts['keep-alive'], 60),
    reconnectPeriod: 0,
    incomingStore: stores.incomingStore,
    outgoingStore: stores.outgoingStore,
    connectTimeout: 10000,
    resubscribe: false,
  };
  if (opts.username !== undefined) options.username = text(opts.username);
  if (opts.password !== undefined) options.password = opts.password;
  if (opts['will-topic'] !== undefined) {
    options.will = {
      topic: text(opts['will-topic']),
      payload: opts['will-payload'] || Buffer.alloc(0),
      qos: num(opts['will-qos'], 0),
      retain: num(opts['will-retain'], 0) === 1,
    };
  }
  if (v5) {
    const props = {};
    if (opts['session-expiry'] !== undefined) props.sessionExpiryInterval = num(opts['session-expiry']);
    if (opts['receive-maximum'] !== undefined) props.receiveMaximum = num(opts['receive-maximum']);
    if (opts['topic-alias-maximum'] !== undefined) props.topicAliasMaximum = num(opts['topic-alias-maximum']);
    if (opts['maximum-packet-size'] !== undefined) props.maximumPacketSize = num(opts['maximum-packet-size']);
    if (opts['auth-method'] !== undefined) {
      props.authenticationMethod = text(opts['auth-method']);
      if (opts['auth-data'] !== undefined) props.authenticationData = opts['auth-data'];
    }
    options.properties = props;
  }
  return new Promise((resolve) => {
    connecting = resolve;
    ending = false;
    if (client === null) {
      client = mqtt.connect(options);
      wire(client);
    } else {
      Object.assign(client.options, options);
      client.reconnect(stores);
    }
    if (v5 && opts['auth-method'] !== undefined) {
      const method = text(opts['auth-method']);
      const response = opts['auth-response'] || Buffer.alloc(0);
      client.handleAuth = (packet, callback) => {
        callback(null, { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: method, authenticationData: response } });
      };
    }
  });
}

function settle(line) {
  if (connecting) {
    const done = connecting;
    connecting = null;
    emit(line);
    done();
    return true;
  }
  return false;
}

function wire(c) {
  c.on('connect', (connack) => {
    settle(`connected session-present=${connack.sessionPresent ? 1 : 0}`);
  });
  c.on('error', (err) => {
    const code = err && err.code !== undefined ? ` reason=${err.code}` : '';
    if (!settle(`connect-failed${code} detail=${enc(err.message)}`)) emit(`error ${enc(err.message)}`);
  });
  c.on('disconnect', (packet) => {
    if (!ending) emit(`connection-lost reason=${packet.reasonCode || 0}`);
    ending = true;
  });
  c.on('close', () => {
    if (settle('connect-failed detail=closed')) return;
    if (!ending) emit('connection-lost');
    ending = true;
  });
  c.on('message', (topic, payload, packet) => {
    emit(`message topic=${enc(topic)} qos=${packet.qos} retain=${packet.retain ? 1 : 0} payload=${Buffer.from(payload).toString('hex')}`);
  });
}

function publish(args, opts) {
  if (args.length < 3) return emit('error publish wants TOPIC QOS PAYLOAD');
  const options = { qos: Number(args[1].toString()), retain: num(opts.retain, 0) === 1 };
  if (v5) {
    const props = {};
    if (opts['topic-alias'] !== undefined) props.topicAlias = num(opts['topic-alias']);
    if (opts['response-topic'] !== undefined) props.responseTopic = text(opts['response-topic']);
    if (opts['content-type'] !== undefined) props.contentType = text(opts['content-type']);
    if (opts['message-expiry'] !== undefined) props.messageExpiryInterval = num(opts['message-expiry']);
    if (Object.keys(props).length) options.properties = props;
  }
  client.publish(text(args[0]), args[2], options, (err) => {
    if (err) emit(`error ${enc(err.message)}`);
  });
}

function subscribe(args, opts) {
  if (args.length < 2) return emit('error subscribe wants FILTER QOS');
  const options = { qos: Number(args[1].toString()) };
  if (v5) {
    if (opts['no-local'] !== undefined) options.nl = num(opts['no-local']) === 1;
    if (opts['retain-as-published'] !== undefined) options.rap = num(opts['retain-as-published']) === 1;
    if (opts['retain-handling'] !== undefined) options.rh = num(opts['retain-handling']);
  }
  client.subscribe(text(args[0]), options, (err, granted) => {
    if (err) emit(`error ${enc(err.message)}`);
    else emit(`subscribed codes=${(granted || []).map((g) => g.qos).join(',')}`);
  });
}

function unsubscribe(args) {
  client.unsubscribe(text(args[0]), (err) => {
    if (err) emit(`error ${enc(err.message)}`);
    else emit('unsubscribed');
  });
}

function disconnect(opts) {
  return new Promise((resolve) => {
    ending = true;
    const options = v5 && opts.reason !== undefined ? { reasonCode: num(opts.reason) } : {};
    client.end(false, options, () => {
      emit('disconnected');
      resolve();
    });
  });
}

async function perform(line) {
  const { verb, args, opts } = parse(line);
  if (verb === 'connect') return connect(opts);
  if (verb === 'wait') return new Promise((r) => setTimeout(r, Number(args[0] || 0)));
  if (verb === 'exit') process.exit(0);
  if (client === null && ['publish', 'subscribe', 'unsubscribe', 'disconnect', 'reauth'].includes(verb))
    return emit('error not connected yet');
  if (verb === 'publish') return publish(args, opts);
  if (verb === 'subscribe') return subscribe(args, opts);
  if (verb === 'unsubscribe') return unsubscribe(args);
  if (verb === 'disconnect') return disconnect(opts);
  if (verb === 'reauth') return emit('unsupported reauth (MQTT.js has no call that starts a re-authentication)');
  emit(`unsupported ${verb}`);
}

// One action at a time, in order.
const queue = [];
let busy = false;
async function pump() {
  if (busy) return;
  busy = true;
  while (queue.length) {
    const line = queue.shift();
    try {
      await perform(line);
    } catch (e) {
      emit(`error ${enc(e && e.message ? e.message : String(e))}`);
    }
  }
  busy = false;
}

const rl = readline.createInterface({ input: process.stdin });
emit('ready');
rl.on('line', (line) => {
  if (line.length === 0) return;
  queue.push(line);
  pump();
});
rl.on('close', () => {
  const quit = () => process.exit(0);
  if (busy) setTimeout(quit, 200);
  else quit();
});
