/* SalesAssist page SDK: lets any web page record what a lead did on a shared action link.
 *
 *   <script src="https://<your SalesAssist host>/sdk/salesassist.js"></script>
 *   const client = SalesAssist.client();          // action, lead, visitor, token from the page URL
 *   client.opened();                              // once per visitor, however often the page reloads
 *   client.record("submitted", { form: "<form uuid>", data: { email: "ada@example.com" } });
 *
 * Plain JavaScript, no build step, no eval or inline code (works under a strict Content-Security-Policy).
 * Every engagement carries an Idempotency-Key (one per call, the same on each of its retries) and the
 * page's attribution (utm_* parameters, referrer, landing URL). Network errors, 5xx and 429 answers are
 * retried with exponential backoff and jitter; a call that still cannot be sent waits in localStorage and
 * is sent, with its key, when the browser is back online or the next time a page loads the SDK. 4xx answers
 * are final. docs/sdk.md documents it all. */
(function (global) {
  "use strict";

  var QUEUE_KEY = "salesassist.queue";
  var QUEUE_LIMIT = 50;
  var UTM_PARAMETERS = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];
  var UTM_MAX_LENGTH = 200;
  var URL_MAX_LENGTH = 2000;
  // The URLs the API keeps (action_engine/attribution.py: URL_PATTERN); others are left out, never sent.
  var URL_PATTERN = /^https?:\/\/[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?([/?#][!-~]*)?$/;
  // The API's host name is the SDK's own with this prefix, unless the script tag or the options name it.
  var API_SUBDOMAIN = "api.action-engine.";
  var script = document.currentScript;

  function defaultApi() {
    if (script && script.dataset.api) return script.dataset.api;
    var origin = new URL(script ? script.src : location.href, location.href);
    return origin.protocol + "//" + API_SUBDOMAIN + origin.host + "/v1";
  }

  function newKey() {
    if (global.crypto && crypto.randomUUID) return crypto.randomUUID();
    // crypto.randomUUID needs a secure context; plain-HTTP pages get the same from getRandomValues.
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function storage(read) {
    try { return read(global.localStorage); } catch (e) { return null; } // private mode, storage off
  }

  // A link without a visitor (a forwarded or hand-made one) gets this browser's own, kept across visits.
  function browserVisitor(lead) {
    var name = "salesassist.visitor." + lead;
    var known = storage(function (store) { return store.getItem(name); });
    if (!known) {
      known = newKey();
      storage(function (store) { store.setItem(name, known); });
    }
    return known;
  }

  function withoutToken(href) {
    var url = new URL(href);
    url.searchParams.delete("token"); // the link's signed token is a credential, never attribution
    return url.href;
  }

  function keptUrl(href) {
    return href && href.length <= URL_MAX_LENGTH && URL_PATTERN.test(href) ? href : null;
  }

  function pageAttribution(params) {
    var attribution = {};
    UTM_PARAMETERS.forEach(function (name) {
      var value = (params.get(name) || "").trim();
      if (value) attribution[name] = value.slice(0, UTM_MAX_LENGTH);
    });
    var referrer = keptUrl(document.referrer);
    if (referrer) attribution.referrer = referrer;
    var landing = keptUrl(withoutToken(location.href));
    if (landing) attribution.landing_url = landing;
    return attribution;
  }

  /* --- sending, retrying, queueing ------------------------------------------------------------------ */

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function retryable(status) { return status === 0 || status === 429 || status >= 500; }

  // Exponential backoff with jitter: between half and all of base * 2^attempt, capped; a 429's Retry-After
  // is waited out when it is longer.
  function backoff(policy, attempt, retryAfter) {
    var ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * Math.pow(2, attempt));
    var delay = ceiling / 2 + Math.random() * ceiling / 2;
    var asked = Number(retryAfter) * 1000;
    return isFinite(asked) && asked > delay ? Math.min(asked, policy.maxBackoffMs * 4) : delay;
  }

  function once(call) {
    var headers = { "Accept": "application/json" };
    if (call.body) headers["Content-Type"] = "application/json";
    if (call.key) headers["Idempotency-Key"] = call.key;
    return fetch(call.url, {
      method: call.body ? "POST" : "GET", headers: headers, mode: "cors", credentials: "omit",
      body: call.body ? JSON.stringify(call.body) : undefined
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return {
          ok: response.ok, status: response.status, data: data, queued: false,
          replayed: response.headers.get("Idempotent-Replayed") === "true",
          retryAfter: response.headers.get("Retry-After")
        };
      });
    }, function () {
      return { ok: false, status: 0, data: {}, queued: false, replayed: false, retryAfter: null };
    });
  }

  function withRetries(call, policy, attempt) {
    attempt = attempt || 0;
    return once(call).then(function (result) {
      if (!retryable(result.status) || attempt >= policy.retries) return result;
      return sleep(backoff(policy, attempt, result.retryAfter)).then(function () {
        return withRetries(call, policy, attempt + 1);
      });
    });
  }

  function queueRead() {
    var raw = storage(function (store) { return store.getItem(QUEUE_KEY); });
    try { return raw ? JSON.parse(raw) : []; } catch (e) { return []; }
  }

  function queueWrite(entries) {
    storage(function (store) {
      if (entries.length) store.setItem(QUEUE_KEY, JSON.stringify(entries.slice(-QUEUE_LIMIT)));
      else store.removeItem(QUEUE_KEY);
    });
  }

  function enqueue(call) {
    var entries = queueRead().filter(function (entry) { return entry.key !== call.key; });
    entries.push({ url: call.url, body: call.body, key: call.key, queued_at: new Date().toISOString() });
    queueWrite(entries);
  }

  function announce(entry, result) {
    global.dispatchEvent(new CustomEvent("salesassist:sent", {
      detail: { key: entry.key, stage: entry.body.stage, ok: result.ok, status: result.status, data: result.data }
    }));
  }

  var flushing = null;
  var defaultPolicy = { retries: 4, backoffMs: 500, maxBackoffMs: 8000 };

  // Sends the queued engagements in order, each with its own key; stops at the first that still cannot
  // go (the rest wait for the next chance). An answer, even a 4xx, takes an entry off the queue.
  function flush() {
    if (flushing) return flushing;
    flushing = (function next() {
      var entry = queueRead()[0];
      if (!entry) return Promise.resolve();
      return withRetries(entry, defaultPolicy).then(function (result) {
        if (retryable(result.status)) return;
        queueWrite(queueRead().filter(function (queued) { return queued.key !== entry.key; }));
        announce(entry, result);
        return next();
      });
    })().then(function () { flushing = null; });
    return flushing;
  }

  /* --- the client ----------------------------------------------------------------------------------- */

  function Client(options) {
    options = options || {};
    var params = new URLSearchParams(location.search);
    this.api = (options.api || defaultApi()).replace(/\/+$/, "");
    this.action = options.action || params.get("action") || "";
    this.lead = options.lead || params.get("lead") || "";
    this.token = options.token || params.get("token") || "";
    this.visitor = options.visitor || params.get("visitor") || (this.lead ? browserVisitor(this.lead) : "");
    this.attribution = options.attribution || pageAttribution(params);
    this.policy = {
      retries: options.retries !== undefined ? options.retries : defaultPolicy.retries,
      backoffMs: options.backoffMs || defaultPolicy.backoffMs,
      maxBackoffMs: options.maxBackoffMs || defaultPolicy.maxBackoffMs
    };
  }

  /* The action page's data (action, modules, the lead's first name and stage). */
  Client.prototype.page = function () {
    var query = new URLSearchParams({ lead: this.lead, visitor: this.visitor });
    if (this.token) query.set("token", this.token);
    var url = this.api + "/public/actions/" + encodeURIComponent(this.action) + "?" + query;
    return withRetries({ url: url }, this.policy);
  };

  /* Records `stage` with `message`; resolves to {ok, status, data, replayed, queued}, never rejects.
   * options.key: the Idempotency-Key (default: a new one per call); options.honeypot: a bot trap's value. */
  Client.prototype.record = function (stage, message, options) {
    options = options || {};
    var body = {
      action: this.action, lead: this.lead, visitor: this.visitor, stage: stage, message: message || {},
      attribution: this.attribution
    };
    if (this.token) body.token = this.token;
    if (options.honeypot) body.honeypot = options.honeypot;
    var call = { url: this.api + "/public/engagements", body: body, key: options.key || newKey() };
    if (navigator.onLine === false) {
      enqueue(call);
      return Promise.resolve({ ok: false, status: 0, data: {}, replayed: false, queued: true });
    }
    return withRetries(call, this.policy).then(function (result) {
      if (!retryable(result.status)) return result;
      enqueue(call);
      result.queued = true;
      return result;
    });
  };

  /* Records `opened`: its key is the action's and visitor's, so opening again counts once. */
  Client.prototype.opened = function () {
    return this.record("opened", {}, { key: "opened-" + this.action + "-" + this.visitor });
  };

  global.addEventListener("online", flush);
  if (navigator.onLine !== false && queueRead().length) setTimeout(flush, 0);

  global.SalesAssist = {
    client: function (options) { return new Client(options); },
    flush: flush,
    pending: function () { return queueRead().length; },
    newKey: newKey
  };
})(window);
