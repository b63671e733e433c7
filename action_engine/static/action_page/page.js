/* The reference action page: reads the action from the public API, renders it, posts the lead's stages.
 * Plain JavaScript, no build step. It talks to the API through the page SDK (sdk/salesassist.js, loaded
 * first): idempotency keys, retries, the offline queue and attribution are the SDK's. Every submission keeps
 * one key, so retries and double clicks count once; the API's field errors are shown next to their fields. */
(function () {
  "use strict";

  var root = document.getElementById("action-page");
  var client = SalesAssist.client({
    api: root.dataset.api,
    action: root.dataset.action,
    lead: root.dataset.lead,
    visitor: root.dataset.visitor,
    token: root.dataset.token
  });
  var page = null;
  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function notice(text, isError) {
    var box = $("notice");
    box.textContent = text;
    box.className = isError ? "notice notice--error" : "notice";
    box.hidden = !text;
  }

  function confirm(text) {
    $("content").hidden = true;
    $("confirmation-text").textContent = text;
    $("confirmation").hidden = false;
    notice("");
  }

  // One Idempotency-Key per submission, made once and sent again on its retries (a double click, a retry
  // after a lost answer), so it records once. A changed submission gets a new key: the API refuses a key
  // sent with a different request (422) rather than drop the change.
  function submissionKeys(prefix) {
    var last = { body: null, key: null };
    return function (message) {
      var body = JSON.stringify(message);
      if (body !== last.body) last = { body: body, key: prefix + "-" + SalesAssist.newKey() };
      return last.key;
    };
  }

  var SAVED_OFFLINE = "We could not reach the server: your answer is saved on this device and will be sent as " +
    "soon as you are back online.";

  function recordResult(message, key, honeypot) {
    return client.record(page.action.result_stage, message, { key: key, honeypot: honeypot });
  }

  function problemText(result) {
    if (result.status === 0) return "We could not reach the server. Please try again.";
    return (result.data && result.data.detail) || "Something went wrong. Please try again.";
  }

  /* --- forms ----------------------------------------------------------------------------------- */

  function inputFor(name, schema, required) {
    var id = "field-" + name;
    var common = { id: id, name: name, required: required, "aria-describedby": id + "-error" };
    if (Array.isArray(schema.enum)) {
      var options = [el("option", { value: "", text: required ? "Choose…" : "—" })];
      schema.enum.forEach(function (value) { options.push(el("option", { value: String(value), text: String(value) })); });
      return el("select", common, options);
    }
    if (schema.type === "boolean") return el("input", Object.assign({ type: "checkbox" }, common));
    if (schema.type === "integer" || schema.type === "number") {
      return el("input", Object.assign({
        type: "number", inputmode: schema.type === "integer" ? "numeric" : "decimal",
        step: schema.type === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum
      }, common));
    }
    if (schema.format === "textarea" || (schema.maxLength || 0) > 200) {
      return el("textarea", Object.assign({ rows: 4, maxlength: schema.maxLength, minlength: schema.minLength }, common));
    }
    var type = { email: "email", date: "date", uri: "url", "date-time": "datetime-local" }[schema.format] || "text";
    if (/phone|tel/i.test(name) && type === "text") type = "tel";
    return el("input", Object.assign({
      type: type, maxlength: schema.maxLength, minlength: schema.minLength,
      autocomplete: { email: "email", name: "name", phone: "tel" }[name] || null
    }, common));
  }

  function fieldValue(input, schema) {
    if (schema.type === "boolean") return input.checked;
    var raw = input.value.trim();
    if (raw === "") return undefined;
    if (schema.type === "integer" || schema.type === "number") {
      var number = Number(raw);
      return isNaN(number) ? raw : number;
    }
    return raw;
  }

  function clearErrors(form) {
    form.querySelectorAll(".field__error").forEach(function (node) { node.textContent = ""; node.hidden = true; });
    form.querySelectorAll(".field--invalid").forEach(function (node) { node.classList.remove("field--invalid"); });
  }

  function showErrors(form, errors) {
    var unplaced = [];
    Object.keys(errors || {}).forEach(function (path) {
      var name = path.indexOf("data.") === 0 ? path.slice(5).split(".")[0] : null;
      var slot = name && form.querySelector('[data-error-for="' + name + '"]');
      if (slot) {
        slot.textContent = errors[path].join(" ");
        slot.hidden = false;
        slot.parentNode.classList.add("field--invalid");
      } else {
        unplaced.push(errors[path].join(" "));
      }
    });
    var first = form.querySelector(".field--invalid input, .field--invalid select, .field--invalid textarea");
    if (first) first.focus();
    return unplaced;
  }

  // The lead's values the company lets its page fill in (page data `lead.prefill`: only the fields its
  // action's config["prefill"] lists), each into the form field of the same name.
  function prefilled(input, value) {
    if (typeof value === "string" && value && input.type !== "checkbox") input.value = value;
    return input;
  }

  function renderForm(module, prefill) {
    var schema = module.schema || {};
    var properties = schema.properties || {};
    var required = schema.required || [];
    var fields = Object.keys(properties).map(function (name) {
      var prop = properties[name] || {};
      var isRequired = required.indexOf(name) !== -1;
      var input = prefilled(inputFor(name, prop, isRequired), prefill[name]);
      var label = el("label", { "for": input.id, text: (prop.title || name) + (isRequired ? " *" : "") });
      var error = el("p", { className: "field__error", id: input.id + "-error", "data-error-for": name, hidden: true });
      var hint = prop.description ? el("p", { className: "hint", text: prop.description }) : null;
      if (prop.type === "boolean") {
        label = el("label", { "for": input.id }, [input, document.createTextNode(prop.title || name)]);
        return el("div", { className: "field field--checkbox" }, [label, hint, error]);
      }
      return el("div", { className: "field" }, [label, input, hint, error]);
    });
    var trap = el("div", { className: "trap", "aria-hidden": "true" }, [
      el("label", { "for": "field-website", text: "Leave this empty" }),
      el("input", { id: "field-website", name: "website", type: "text", tabindex: "-1", autocomplete: "off" })
    ]);
    var submit = el("button", { type: "submit", className: "button", text: module.submit_label || "Submit" });
    var form = el("form", { className: "card", novalidate: true, id: "action-form" }, fields.concat([trap, submit]));
    if (module.description) form.insertBefore(el("p", { className: "hint", text: module.description }), form.firstChild);
    var keyFor = submissionKeys("submit");

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      var data = {};
      Object.keys(properties).forEach(function (name) {
        var value = fieldValue(form.elements[name], properties[name] || {});
        if (value !== undefined) data[name] = value;
      });
      submit.disabled = true;
      notice("Sending…");
      var message = { form: module.uuid, data: data };
      recordResult(message, keyFor(message), form.elements.website.value)
        .then(function (result) {
          if (result.ok) return confirm(module.success_message || "Thank you!");
          if (result.queued) return confirm(SAVED_OFFLINE);
          var unplaced = showErrors(form, result.data.errors);
          notice(unplaced.length ? unplaced.join(" ") : (result.status === 400 ? "Please check the highlighted fields." : problemText(result)), true);
        })
        .then(function () { submit.disabled = false; });
    });
    return form;
  }

  /* --- commerce -------------------------------------------------------------------------------- */

  function money(amount, currency) {
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(amount); }
    catch (e) { return amount + " " + currency; }
  }

  function renderProducts(modules) {
    var products = modules.filter(function (m) { return m.kind === "product"; });
    var lines = [];
    var total = el("p", { className: "total" }, [el("span", { text: "Total" }), el("span", { id: "cart-total", text: "—" })]);
    function variantOf(line) {
      return line.product.variants.filter(function (v) { return v.uuid === line.variant.value; })[0] || null;
    }
    function unitPrice(line) {
      var variant = variantOf(line);
      return Number(variant ? variant.price : line.product.price);
    }
    function refresh() {
      var sum = 0;
      lines.forEach(function (line) { sum += unitPrice(line) * (parseInt(line.quantity.value, 10) || 0); });
      total.lastChild.textContent = products.length ? money(sum, products[0].currency) : "—";
    }
    var cards = products.map(function (product, index) {
      var variant = el("select", { "aria-label": "Option for " + product.name, id: "variant-" + index },
        [el("option", { value: "", text: product.name + " — " + money(product.price, product.currency) })].concat(
          product.variants.map(function (v) { return el("option", { value: v.uuid, text: v.name + " — " + money(v.price, product.currency) }); })
        ));
      var quantity = el("input", {
        type: "number", min: "0", max: "10000", step: "1", value: index === 0 ? "1" : "0", inputmode: "numeric",
        "aria-label": "Quantity of " + product.name, id: "quantity-" + index
      });
      var line = { product: product, variant: variant, quantity: quantity };
      lines.push(line);
      variant.addEventListener("change", refresh);
      quantity.addEventListener("input", refresh);
      return el("article", { className: "card" }, [
        el("h2", { text: product.name }),
        product.description ? el("p", { text: product.description }) : null,
        el("p", { className: "price", text: money(product.price, product.currency) }),
        el("div", { className: "row field" }, [product.variants.length ? variant : el("span"), quantity])
      ]);
    });
    var buy = el("button", { type: "button", className: "button", id: "buy", text: "Buy" });
    var cart = el("div", {}, cards.concat([el("div", { className: "card" }, [total, buy])]));
    var review = el("div", { className: "card", id: "review", hidden: true });
    var keyFor = submissionKeys("buy");

    function chosen() {
      return lines.filter(function (line) { return (parseInt(line.quantity.value, 10) || 0) > 0; });
    }

    function showCart(isShown) {
      cart.hidden = !isShown;
      review.hidden = isShown;
    }

    // Buying takes two steps: the cart's summary to check, then the order placed on "Confirm order".
    buy.addEventListener("click", function () {
      var picked = chosen();
      if (!picked.length) return notice("Choose at least one item.", true);
      notice("");
      review.textContent = "";
      var sum = 0;
      var rows = picked.map(function (line) {
        var quantity = parseInt(line.quantity.value, 10);
        var variant = variantOf(line);
        sum += unitPrice(line) * quantity;
        return el("li", { className: "review__line" }, [
          el("span", { text: quantity + " × " + line.product.name + (variant ? " (" + variant.name + ")" : "") }),
          el("span", { text: money(unitPrice(line) * quantity, line.product.currency) })
        ]);
      });
      var confirmButton = el("button", { type: "button", className: "button", id: "confirm-order", text: "Confirm order" });
      var back = el("button", { type: "button", className: "button button--secondary", id: "back-to-cart", text: "Back" });
      [
        el("h2", { text: "Your order" }),
        el("ul", { className: "review__lines", id: "review-lines" }, rows),
        el("p", { className: "total" }, [el("span", { text: "Total" }), el("span", { id: "review-total", text: money(sum, products[0].currency) })]),
        el("div", { className: "buttons" }, [back, confirmButton])
      ].forEach(function (node) { review.appendChild(node); });
      back.addEventListener("click", function () { showCart(true); notice(""); });
      confirmButton.addEventListener("click", function () {
        var items = picked.map(function (line) {
          return { product: line.product.uuid, variant: line.variant.value || null, quantity: parseInt(line.quantity.value, 10) };
        });
        confirmButton.disabled = back.disabled = true;
        notice("Placing your order…");
        var message = { items: items };
        recordResult(message, keyFor(message))
          .then(function (result) {
            if (result.ok) return confirm("Your order is placed. We will be in touch shortly.");
            if (result.queued) return confirm(SAVED_OFFLINE);
            var errors = result.data.errors || {};
            var messages = Object.keys(errors).map(function (k) { return errors[k].join(" "); });
            notice(messages.length ? messages.join(" ") : problemText(result), true);
          })
          .then(function () { confirmButton.disabled = back.disabled = false; });
      });
      showCart(false);
      confirmButton.focus();
    });
    refresh();
    return el("div", {}, [cart, review]);
  }

  /* --- content --------------------------------------------------------------------------------- */

  function renderContent(modules) {
    return el("div", {}, modules.filter(function (m) { return m.kind === "content"; }).map(function (content) {
      var open = el("a", { className: "button button--secondary", href: content.url, target: "_blank", rel: "noopener", text: "Open" });
      var download = el("a", { className: "button", href: content.download_url || content.url, download: "", text: "Download" });
      var key = "download-" + content.uuid + "-" + SalesAssist.newKey();
      download.addEventListener("click", function () {
        // The download itself goes ahead at once; recording it must not hold up the lead.
        recordResult({ content: content.uuid }, key).then(function (result) {
          notice(result.ok || result.queued ? "Your download has started." : problemText(result), !result.ok && !result.queued);
        });
      });
      return el("article", { className: "card" }, [
        el("h2", { text: content.title }),
        content.body ? el("p", { text: content.body }) : null,
        el("div", { className: "buttons" }, [open, download])
      ]);
    }));
  }

  /* --- the page -------------------------------------------------------------------------------- */

  function render(data) {
    page = data;
    document.title = data.action.name;
    $("title").textContent = data.action.name;
    $("description").textContent = data.action.description || "";
    if (data.lead.first_name) {
      $("greeting").textContent = "Hi " + data.lead.first_name + ",";
      $("greeting").hidden = false;
    }
    var content = $("content");
    content.textContent = "";
    var system = data.action.system;
    if (system === "forms") {
      var form = data.modules.filter(function (m) { return m.kind === "form"; })[0];
      content.appendChild(form ? renderForm(form, data.lead.prefill || {}) : el("p", { text: "This form is not available." }));
    } else if (system === "commerce") {
      content.appendChild(renderProducts(data.modules));
    } else {
      content.appendChild(renderContent(data.modules));
    }
    if (data.lead.stage === data.action.result_stage) notice("You have done this before; you are welcome to do it again.");
  }

  function start() {
    if (!client.lead) return notice("This link is incomplete.", true);
    client.page().then(function (result) {
      if (!result.ok) {
        $("title").textContent = result.status === 403 ? "This link has expired" : "This page is not available";
        return notice(problemText(result), true);
      }
      render(result.data);
      // Opening counts once per visitor, however often the page is reloaded.
      return client.opened();
    });
  }

  start();
})();
