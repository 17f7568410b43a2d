/* CareMap offline visit pack: decrypt with the PIN, show the week, record visits, export them encrypted and signed.
 * Every text from the data is set with textContent or as a form value, never parsed as HTML.
 * Visits are kept in IndexedDB encrypted under the PIN's key, so a lost phone shows nothing. */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("pack-boot").textContent);
  var sealed = JSON.parse(document.getElementById("pack-data").textContent);
  var header = JSON.parse(sealed.header);
  var labels = boot.labels;
  var lang = boot.lang === "en" ? "en" : "zh";
  var main = document.getElementById("main");
  var state = { pack: null, key: null, resultKeys: null, visits: {}, open: null, map: null, markers: {} };

  function t(key, params) {
    var entry = labels[key];
    var text = entry ? entry[lang === "en" ? 1 : 0] : key;
    // English that depends on a count: [one, other, by], by the count in params[by].
    if (Array.isArray(text)) text = params && Number(String(params[text[2]]).replace(/,/g, "")) === 1 ? text[0] : text[1];
    if (params) {
      text = text.replace(/\{(\w+)\}/g, function (whole, name) {
        return Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
      });
    }
    return text;
  }

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (name) {
      var value = props[name];
      if (name === "text") node.textContent = value;
      else if (name === "className") node.className = value;
      else if (name === "onclick" || name === "onchange") node[name] = value;
      else if (name === "value" || name === "checked" || name === "selected") node[name] = value;
      else node.setAttribute(name, value);
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function b64decode(text) {
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function b64encode(bytes) {
    var raw = "";
    var view = new Uint8Array(bytes);
    for (var i = 0; i < view.length; i += 0x8000) raw += String.fromCharCode.apply(null, view.subarray(i, i + 0x8000));
    return btoa(raw);
  }

  function utf8(text) {
    return new TextEncoder().encode(text);
  }

  function hex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function randomToken() {
    return hex(crypto.getRandomValues(new Uint8Array(16)));
  }

  function pad(n) { return ("0" + n).slice(-2); }

  function localNow() {
    var d = new Date();
    return { day: d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()), time: pad(d.getHours()) + ":" + pad(d.getMinutes()) };
  }

  function expired() {
    return Date.now() > Date.parse(header.expires);
  }

  /* --- the PIN screen ------------------------------------------------------------------------ */

  function drawHeader() {
    document.documentElement.lang = lang === "en" ? "en" : "zh";
    document.getElementById("title").textContent = t("pack.title");
    var meta = t("pack.expires_on", { day: header.expires.slice(0, 10) });
    if (state.pack) meta = state.pack.worker + " · " + meta;
    document.getElementById("meta").textContent = meta;
    var toggle = document.getElementById("lang");
    toggle.textContent = lang === "en" ? "中文" : "English";
    toggle.onclick = function () {
      lang = lang === "en" ? "zh" : "en";
      drawHeader();
      if (state.pack) drawWeek(); else drawLock();
    };
  }

  function drawLock(message) {
    clear(main);
    if (!window.crypto || !crypto.subtle || !window.indexedDB) {
      main.appendChild(el("div", { className: "panel error", id: "pack-error", text: t("pack.no_crypto") }));
      return;
    }
    if (header.format !== "caremap.visit_pack") {
      main.appendChild(el("div", { className: "panel error", id: "pack-error", text: t("pack.bad_file") }));
      return;
    }
    if (expired()) {
      main.appendChild(el("div", { className: "panel error", id: "pack-expired", text: t("pack.expired_open", { day: header.expires.slice(0, 10) }) }));
      return;
    }
    var pin = el("input", { id: "pin", type: "password", inputmode: "numeric", autocomplete: "off", maxlength: "16" });
    var note = el("div", { id: "pin-message", className: "error" });
    var open = el("button", { id: "open", type: "submit", className: "primary", text: t("pack.open") });
    var form = el("form", { className: "panel" }, [el("label", { for: "pin", text: t("pack.pin") }), pin, note, open]);
    form.onsubmit = function (event) {
      event.preventDefault();
      open.disabled = true;
      note.className = "muted";
      note.textContent = t("pack.opening");
      unlock(pin.value).then(function () {
        pin.value = "";
      }, function () {
        open.disabled = false;
        note.className = "error";
        note.textContent = t("pack.wrong_pin");
        pin.value = "";
      });
    };
    main.appendChild(form);
    if (message) note.textContent = message;
    pin.focus();
  }

  function unlock(pin) {
    return crypto.subtle.importKey("raw", utf8(pin), "PBKDF2", false, ["deriveKey"]).then(function (base) {
      return crypto.subtle.deriveKey(
        { name: "PBKDF2", salt: b64decode(header.salt), iterations: header.iterations, hash: "SHA-256" },
        base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    }).then(function (key) {
      return crypto.subtle.decrypt(
        { name: "AES-GCM", iv: b64decode(header.nonce), additionalData: utf8(sealed.header) },
        key, b64decode(sealed.ciphertext)).then(function (plain) {
        var pack = JSON.parse(new TextDecoder().decode(plain));
        if (pack.pack_id !== header.pack_id || pack.expires !== header.expires) throw new Error("mismatch");
        return resultKeys(b64decode(pack.hmac_key)).then(function (keys) {
          delete pack.hmac_key;
          state.pack = pack;
          state.key = key;
          state.resultKeys = keys;
          Object.keys(pack.labels).forEach(function (k) { labels[k] = pack.labels[k]; });
          return loadVisits();
        });
      });
    }).then(function () {
      drawHeader();
      drawWeek();
    });
  }

  /* The result file's keys: HKDF-SHA256 of the pack's secret, as the server derives them. */
  function resultKeys(secret) {
    return crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]).then(function (base) {
      function derive(info, algorithm, usage) {
        return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: utf8(info) }, base, algorithm, false, [usage]);
      }
      return Promise.all([
        derive("caremap visit results: encryption", { name: "AES-GCM", length: 256 }, "encrypt"),
        derive("caremap visit results: signature", { name: "HMAC", hash: "SHA-256", length: 256 }, "sign"),
      ]);
    }).then(function (keys) { return { encrypt: keys[0], sign: keys[1] }; });
  }

  /* --- storage: IndexedDB, each visit encrypted under the pack's key ----------------------- */

  function database() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("caremap-pack-" + header.pack_id, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore("visits", { keyPath: "token" }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function loadVisits() {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var request = db.transaction("visits", "readonly").objectStore("visits").getAll();
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }).then(function (rows) {
      return Promise.all(rows.map(function (row) {
        return crypto.subtle.decrypt({ name: "AES-GCM", iv: b64decode(row.iv), additionalData: utf8(header.pack_id) }, state.key, b64decode(row.data))
          .then(function (plain) { return JSON.parse(new TextDecoder().decode(plain)); });
      }));
    }).then(function (found) {
      state.visits = {};
      found.forEach(function (visit) { state.visits[visit.person_id] = visit; });
    });
  }

  function storeVisit(visit) {
    var iv = crypto.getRandomValues(new Uint8Array(12));
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: iv, additionalData: utf8(header.pack_id) }, state.key, utf8(JSON.stringify(visit)))
      .then(function (cipher) {
        return database().then(function (db) {
          return new Promise(function (resolve, reject) {
            var tx = db.transaction("visits", "readwrite");
            tx.objectStore("visits").put({ token: visit.client_token, iv: b64encode(iv), data: b64encode(cipher) });
            tx.oncomplete = function () { resolve(); };
            tx.onerror = function () { reject(tx.error); };
          });
        });
      });
  }

  /* --- the week: map, counts, one card per person ------------------------------------------ */

  function recordedCount() {
    return Object.keys(state.visits).length;
  }

  function drawWeek() {
    clear(main);
    var stops = state.pack.stops;
    main.appendChild(el("div", { id: "map" }));
    var summary = el("div", { className: "panel", id: "pack-summary" }, [
      el("div", { id: "pack-counts", text: t("pack.counts", { total: stops.length, recorded: recordedCount() }) }),
      el("div", { className: "muted", text: t("pack.not_sent_hint") }),
    ]);
    var exportButton = el("button", { id: "export", type: "button", className: "primary", text: t("pack.export") });
    exportButton.onclick = exportResults;
    exportButton.disabled = recordedCount() === 0;
    summary.appendChild(exportButton);
    summary.appendChild(el("div", { id: "export-message", className: "ok" }));
    main.appendChild(summary);
    stops.forEach(function (stop) { main.appendChild(card(stop)); });
    drawMap();
  }

  function drawMap() {
    if (!window.L) return;
    if (state.map) state.map.remove();
    var points = [];
    var map = L.map("map", { zoomControl: true, attributionControl: false });
    state.map = map;
    if (state.pack.office) points.push(state.pack.office);
    state.pack.stops.forEach(function (stop) {
      if (stop.lat === null || stop.lon === null) return;
      var icon = el("div", { className: "stop-icon" + (state.visits[stop.person_id] ? " recorded" : ""), text: String(stop.n) });
      var marker = L.marker([stop.lat, stop.lon], { icon: L.divIcon({ html: icon, className: "", iconSize: [24, 24] }), title: String(stop.n) });
      marker.on("click", function () {
        var target = document.getElementById("card-" + stop.person_id);
        if (target) target.scrollIntoView();
      });
      marker.addTo(map);
      points.push([stop.lat, stop.lon]);
    });
    if (points.length > 1) L.polyline(points, { color: "#0b6e4f", weight: 2, opacity: 0.6 }).addTo(map);
    if (points.length) map.fitBounds(points, { padding: [20, 20], maxZoom: 15 });
    else map.setView([30, 105], 4);
  }

  function checks(stop) {
    var found = stop.risk_reasons.map(function (r) { return t(r); });
    stop.concerns.forEach(function (a) { found.push(t("my_visits.check_concern", { area: t("visit.area." + a) })); });
    stop.open_needs.forEach(function (k) { found.push(t("my_visits.check_need", { kind: t("enum.need_kind." + k) })); });
    return found;
  }

  function enrollmentLine(e) {
    var parts = [t("enum.group." + e.group) + "·" + t("enum.subtype." + e.subtype)];
    Object.keys(e.facts).forEach(function (fact) {
      var name = fact === "living_arrangement" ? "living_arrangement" : fact;
      parts.push(t("enum." + name + "." + e.facts[fact]));
    });
    return parts.join(" · ") + " · " + t("person_file.risk") + "：" + t("enum.risk." + e.risk);
  }

  function card(stop) {
    var visit = state.visits[stop.person_id];
    var badge = visit
      ? el("span", { className: "badge b-" + visit.status, text: t("pack.recorded_as", { status: t("enum.visit_status." + visit.status) }) })
      : el("span", { className: "badge " + (stop.state === "overdue" ? "b-overdue" : "b-todo"), text: t("pack.not_recorded") });
    var box = el("div", { className: "card", id: "card-" + stop.person_id }, [
      el("h2", { text: stop.n + ". " + stop.name + " · " + t("enum.sex." + stop.sex) + " · " + t("person_file.age_value", { age: stop.age }) }),
      badge,
      el("div", { className: "muted", text: stop.id_masked }),
      el("div", { className: "muted", text: [stop.village, stop.address || "—", stop.phone_masked || "—"].join(" · ") }),
    ]);
    stop.enrollments.forEach(function (e) { box.appendChild(el("div", { className: "muted", text: enrollmentLine(e) })); });
    box.appendChild(el("div", { text: t("my_visits.next_due") + "：" + (stop.next_due || "—") }));
    if (stop.planned_day) box.appendChild(el("div", { className: "muted", text: t("my_visits.planned_day", { day: stop.planned_day }) }));
    var found = checks(stop);
    if (found.length) box.appendChild(el("div", { className: "muted", text: t("my_visits.what_to_check") + "：" + found.join("；") }));
    if (state.open === stop.person_id) {
      box.appendChild(visitForm(stop, visit));
    } else {
      var record = el("button", { type: "button", className: visit ? "" : "primary", text: visit ? t("pack.change") : t("pack.record") });
      record.setAttribute("data-person", String(stop.person_id));
      record.onclick = function () { state.open = stop.person_id; drawWeek(); scrollTo(stop.person_id); };
      box.appendChild(record);
    }
    return box;
  }

  function scrollTo(personId) {
    var target = document.getElementById("card-" + personId);
    if (target) target.scrollIntoView();
  }

  /* --- the visit form, built from the definitions the server sent ------------------------- */

  function radios(name, values, current, labelOf) {
    var box = el("div", { className: "choices", role: "radiogroup" });
    values.forEach(function (value) {
      var input = el("input", { type: "radio", name: name, value: value, checked: value === current });
      box.appendChild(el("label", {}, [input, document.createTextNode(labelOf(value))]));
    });
    return box;
  }

  function chosen(form, name) {
    var hit = form.querySelector('input[name="' + name + '"]:checked');
    return hit ? hit.value : null;
  }

  function select(name, values, current, labelOf) {
    var box = el("select", { name: name });
    values.forEach(function (value) {
      box.appendChild(el("option", { value: value === null ? "" : value, text: labelOf(value), selected: value === current }));
    });
    return box;
  }

  function areasFor(groups) {
    var defs = state.pack.defs;
    return defs.finding_areas.filter(function (area) {
      return groups.some(function (g) { return (defs.areas_by_group[g] || []).indexOf(area) >= 0; });
    });
  }

  function visitForm(stop, visit) {
    var defs = state.pack.defs;
    var limits = defs.limits;
    var draft = visit || { status: defs.statuses[0], mode: defs.modes[0], findings: {}, notes: "", cancel_reason: "", need: null, situation: null,
      enrollment_ids: stop.enrollments.map(function (e) { return e.id; }), client_token: randomToken() };
    var form = el("form", { className: "visit-form", id: "form-" + stop.person_id });
    var prefix = "v" + stop.person_id;
    var status = radios(prefix + "_status", defs.statuses, draft.status, function (s) { return t("enum.visit_status." + s); });
    form.appendChild(el("label", { text: t("form.status") }));
    form.appendChild(status);
    var body = el("div");
    form.appendChild(body);
    var message = el("div", { className: "error", id: "form-message" });

    function enrollmentsChosen() {
      if (stop.enrollments.length < 2) return stop.enrollments.map(function (e) { return e.id; });
      return stop.enrollments.filter(function (e) {
        var box = form.querySelector('input[name="' + prefix + '_enr"][value="' + e.id + '"]');
        return box && box.checked;
      }).map(function (e) { return e.id; });
    }

    function groupsChosen() {
      var ids = enrollmentsChosen();
      return stop.enrollments.filter(function (e) { return ids.indexOf(e.id) >= 0; }).map(function (e) { return e.group; });
    }

    function drawBody() {
      clear(body);
      var current = chosen(form, prefix + "_status");
      if (stop.enrollments.length > 1) {
        body.appendChild(el("label", { text: t("form.enrollment_ids") }));
        var enr = el("div", { className: "choices" });
        stop.enrollments.forEach(function (e) {
          var box = el("input", { type: "checkbox", name: prefix + "_enr", value: String(e.id), checked: draft.enrollment_ids.indexOf(e.id) >= 0 });
          box.onchange = function () { draft.enrollment_ids = enrollmentsChosen(); drawBody(); };
          enr.appendChild(el("label", {}, [box, document.createTextNode(t("enum.group." + e.group))]));
        });
        body.appendChild(enr);
      }
      if (current === "cancelled") {
        body.appendChild(el("label", { text: t("form.cancel_reason") }));
        body.appendChild(el("input", { name: "cancel_reason", maxlength: String(limits.cancel_reason), value: draft.cancel_reason || "" }));
      } else {
        body.appendChild(el("label", { text: t("form.mode") }));
        body.appendChild(radios(prefix + "_mode", defs.modes, draft.mode || defs.modes[0], function (m) { return t("enum.mode." + m); }));
        var now = localNow();
        var when = draft.visited_at ? { day: draft.visited_at.slice(0, 10), time: draft.visited_at.slice(11, 16) } : now;
        body.appendChild(el("label", { text: t("form.visited_at") }));
        body.appendChild(el("input", { type: "date", name: "day", value: when.day, max: now.day }));
        body.appendChild(el("label", { text: t("visit_form.time") }));
        body.appendChild(el("input", { type: "time", name: "time", value: when.time }));
      }
      if (current === "done") {
        body.appendChild(el("div", { text: t("form.findings") }));
        areasFor(groupsChosen()).forEach(function (area) {
          body.appendChild(el("label", { text: t("visit.area." + area) }));
          body.appendChild(select("finding_" + area, [null].concat(defs.finding_choices[area]), draft.findings[area] || null,
            function (c) { return c === null ? t("visit_form.not_checked") : t("enum.finding." + c); }));
          body.appendChild(el("input", { name: "finding_" + area + "_note", placeholder: t("visit_form.area_note"), maxlength: String(limits.finding_note),
            value: draft.findings[area + defs.note_suffix] || "" }));
        });
      }
      body.appendChild(el("label", { text: t("visit_form.notes") }));
      body.appendChild(el("textarea", { name: "notes", rows: "3", maxlength: String(limits.notes), value: draft.notes || "" }));
      if (current !== "cancelled") {
        var need = draft.need || {};
        body.appendChild(el("div", { text: t("visit_form.need") }));
        body.appendChild(el("label", { text: t("form.kind") }));
        body.appendChild(select("need_kind", [null].concat(defs.need_kinds), need.kind || null,
          function (k) { return k === null ? t("visit_form.no_need") : t("enum.need_kind." + k); }));
        body.appendChild(el("label", { text: t("form.department") }));
        body.appendChild(el("input", { name: "need_department", maxlength: String(limits.department), value: need.department || "" }));
        body.appendChild(el("label", { text: t("form.description") }));
        body.appendChild(el("input", { name: "need_description", maxlength: String(limits.description), value: need.description || "" }));
      }
      if (current === "done") {
        var groups = groupsChosen();
        var situations = defs.situations.filter(function (s) {
          return defs.situation_needs_child.indexOf(s) < 0 || groups.indexOf("child") >= 0;
        });
        body.appendChild(el("label", { text: t("form.situation") }));
        body.appendChild(select("situation", [null].concat(situations), draft.situation || null,
          function (s) { return s === null ? t("visit_form.no_change") : t("enum.situation." + s); }));
      }
    }

    status.onchange = function () { keepDraft(); drawBody(); };

    function field(name) {
      var node = form.querySelector('[name="' + name + '"]');
      return node ? node.value.trim() : "";
    }

    function keepDraft() {
      draft = readForm().visit;
    }

    function readForm() {
      var current = chosen(form, prefix + "_status");
      var groups = groupsChosen();
      var read = { client_token: draft.client_token, person_id: stop.person_id, enrollment_ids: enrollmentsChosen(), status: current,
        mode: null, visited_at: null, findings: {}, notes: field("notes"), cancel_reason: "", need: null, situation: null };
      if (current === "cancelled") {
        read.cancel_reason = field("cancel_reason");
      } else {
        read.mode = chosen(form, prefix + "_mode");
        var day = field("day"), time = field("time");
        read.visited_at = day && time ? day + "T" + time + ":00" : null;
      }
      if (current === "done") {
        areasFor(groups).forEach(function (area) {
          var choice = field("finding_" + area), note = field("finding_" + area + "_note");
          if (choice) read.findings[area] = choice;
          if (note) read.findings[area + defs.note_suffix] = note;
        });
        read.situation = field("situation") || null;
      }
      var kind = field("need_kind");
      if (kind && current !== "cancelled") {
        read.need = { kind: kind, department: field("need_department"), description: field("need_description") };
      }
      return { visit: read, problem: problemOf(read, groups) };
    }

    function problemOf(visit, groups) {
      if (!visit.enrollment_ids.length) return t("visit.no_enrollment");
      if (visit.status === "done" && !visit.mode) return t("visit.mode_required");
      if (visit.status !== "cancelled" && !visit.visited_at) return t("visit.time_required");
      if (visit.visited_at) {
        var at = Date.parse(visit.visited_at);
        if (at > Date.now()) return t("visit.in_future");
        if (visit.visited_at.slice(0, 10) < header.created.slice(0, 10)) return t("pack.visit_outside_pack");
      }
      if (visit.status === "cancelled" && !visit.cancel_reason) return t("visit.cancel_reason_required");
      var notesWithoutChoice = areasFor(groups).filter(function (a) { return visit.findings[a + defs.note_suffix] && !visit.findings[a]; });
      if (notesWithoutChoice.length) return t("visit.finding_note_without_choice", { area: t("visit.area." + notesWithoutChoice[0]) });
      if (visit.need && defs.need_needs_description.indexOf(visit.need.kind) >= 0 && !visit.need.description) return t("needs.description_required");
      return null;
    }

    drawBody();
    form.appendChild(message);
    var save = el("button", { type: "submit", className: "primary", text: t("visit_form.save") });
    form.appendChild(save);
    var cancel = el("button", { type: "button", text: t("pack.close") });
    cancel.onclick = function () { state.open = null; drawWeek(); scrollTo(stop.person_id); };
    form.appendChild(cancel);
    form.onsubmit = function (event) {
      event.preventDefault();
      var read = readForm();
      if (read.problem) {
        message.textContent = read.problem;
        return;
      }
      read.visit.saved_at = new Date().toISOString();
      save.disabled = true;
      storeVisit(read.visit).then(function () {
        state.visits[stop.person_id] = read.visit;
        state.open = null;
        drawWeek();
        scrollTo(stop.person_id);
      }, function () {
        save.disabled = false;
        message.textContent = t("pack.store_failed");
      });
    };
    return form;
  }

  /* --- the result file: the visits as signed text -------------------------------------------- */

  function exportResults() {
    var visits = state.pack.stops.map(function (s) { return state.visits[s.person_id]; }).filter(Boolean).map(function (v) {
      return { client_token: v.client_token, person_id: v.person_id, enrollment_ids: v.enrollment_ids, status: v.status, mode: v.mode,
        visited_at: v.visited_at, findings: v.findings, notes: v.notes, cancel_reason: v.cancel_reason, need: v.need, situation: v.situation };
    });
    var payload = JSON.stringify({ pack_id: header.pack_id, visits: visits, exported_at: new Date().toISOString() });
    var nonce = crypto.getRandomValues(new Uint8Array(12));
    var sealedPayload;
    return crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: utf8(header.pack_id) }, state.resultKeys.encrypt, utf8(payload)).then(function (cipher) {
      sealedPayload = b64encode(cipher);
      return crypto.subtle.sign("HMAC", state.resultKeys.sign, utf8(b64encode(nonce) + "." + sealedPayload));
    }).then(function (mac) {
      var file = JSON.stringify({ format: "caremap.visit_results", pack_id: header.pack_id, nonce: b64encode(nonce), payload: sealedPayload, signature: hex(mac) });
      var url = URL.createObjectURL(new Blob([file], { type: "application/json" }));
      var link = el("a", { href: url, download: "caremap-visits-" + localNow().day + "-" + header.pack_id.slice(0, 8) + ".json" });
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
      document.getElementById("export-message").textContent = t("pack.exported", { n: visits.length });
    });
  }

  drawHeader();
  drawLock();
})();
