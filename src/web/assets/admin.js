// gomtin — the admin pages' script (sources, accounts, topics, digests, setup). Served
// from /static/admin.js (the Content-Security-Policy allows no inline script). Every
// change goes through the JSON API with the session's CSRF token; an error about one
// field ({"error", "field"}) is shown right under that field.
"use strict";

(function () {
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function csrf() {
    var input = $("form.logout input[name=csrf]");
    return input ? input.value : "";
  }

  // One JSON request; resolves to {ok, status, data} (data: the parsed answer or null).
  function api(method, url, body, raw) {
    var opts = { method: method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
    if (raw !== undefined) {
      opts.body = raw;
      opts.headers["Content-Type"] = "application/xml";
    } else if (body !== undefined) {
      opts.body = JSON.stringify(body);
      opts.headers["Content-Type"] = "application/json";
    }
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = { error: t }; }
        return { ok: r.ok, status: r.status, data: data };
      });
    }, function () {
      return { ok: false, status: 0, data: { error: "Không kết nối được tới gomtin. Kiểm tra mạng rồi thử lại." } };
    });
  }

  // A button shows it is working and cannot be pressed twice meanwhile.
  function busy(button, on) {
    if (!button) return;
    if (on) {
      button.dataset.label = button.textContent;
      if (button.dataset.busy) button.textContent = button.dataset.busy;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
    } else {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }

  function clearErrors(root) {
    $$(".field-error", root).forEach(function (p) { p.textContent = ""; });
    $$(".has-error", root).forEach(function (el) { el.classList.remove("has-error"); });
    var general = $(".form-error", root);
    if (general) general.textContent = "";
  }

  // Show an API error beside its field (or at the form's foot when it names none).
  function showError(root, data) {
    var message = (data && data.error) || "Có lỗi, hãy thử lại.";
    var field = data && data.field;
    var slot = field ? $('[data-error-for="' + field + '"]', root) : null;
    if (!slot && field && field.indexOf(".") > 0) slot = $('[data-error-for="' + field.split(".")[0] + '"]', root);
    if (slot) {
      slot.textContent = message;
      var input = root.querySelector('[name="' + field + '"]');
      if (input) {
        input.classList.add("has-error");
        input.focus();
      }
      var details = slot.closest ? slot.closest("details") : null;
      if (details) details.open = true;
      return;
    }
    var general = $(".form-error", root) || $("#users-error");
    if (general) general.textContent = message;
    else window.alert(message);
  }

  // The form's fields as the API's JSON: "a.b" names nest, checkboxes are booleans,
  // data-int numbers, data-list one value a line, data-multi checkboxes a list. Empty
  // fields are left out on a new entry and sent as null (back to the default) on a change.
  function collect(form) {
    // A change (PATCH, or PUT of a whole table) sends an emptied field as null.
    var patch = form.dataset.method === "PATCH" || form.dataset.method === "PUT";
    var out = {};
    var put = function (name, value) {
      var parts = name.split(".");
      var obj = out;
      for (var i = 0; i < parts.length - 1; i++) {
        if (!obj[parts[i]] || typeof obj[parts[i]] !== "object") obj[parts[i]] = {};
        obj = obj[parts[i]];
      }
      obj[parts[parts.length - 1]] = value;
    };
    $$("input[name], select[name], textarea[name]", form).forEach(function (el) {
      if (el.hasAttribute("data-skip") || el.disabled || el.readOnly && patch) return;
      if (el.closest("[hidden]") && el.type !== "hidden") {
        if (patch && el.name.indexOf("selectors.") === 0) put(el.name, null);
        return;
      }
      if (el.hasAttribute("data-multi")) {
        if (!Object.prototype.hasOwnProperty.call(out, el.name)) out[el.name] = [];
        if (el.checked) out[el.name].push(el.value);
        return;
      }
      if (el.type === "checkbox") { put(el.name, el.checked); return; }
      var v = el.value.trim();
      if (v === "") { if (patch) put(el.name, null); return; }
      if (el.hasAttribute("data-int")) { put(el.name, Number(v)); return; }
      if (el.hasAttribute("data-list")) {
        put(el.name, v.split(/[\n,;]+/).map(function (s) { return s.trim(); }).filter(Boolean));
        return;
      }
      put(el.name, v);
    });
    if (patch && out.selectors && Object.keys(out.selectors).every(function (k) { return out.selectors[k] === null; })) {
      out.selectors = null;
    }
    return out;
  }

  // Put an entry's values into the form (the reverse of collect).
  function fill(form, obj) {
    $$("input[name], select[name], textarea[name]", form).forEach(function (el) {
      if (el.hasAttribute("data-skip")) return;
      var v = obj;
      el.name.split(".").forEach(function (k) { v = v === null || v === undefined ? undefined : v[k]; });
      if (el.hasAttribute("data-multi")) { el.checked = Array.isArray(v) && v.indexOf(el.value) >= 0; return; }
      if (el.type === "checkbox") {
        el.checked = v === undefined || v === null ? el.dataset.default === "true" : !!v;
        return;
      }
      if (Array.isArray(v)) { el.value = v.join("\n"); return; }
      el.value = v === undefined || v === null ? "" : String(v);
    });
    form.dispatchEvent(new Event("change"));
  }

  // A form that saves through the API: on success go to data-then (or reload).
  function apiForm(form, done) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = $('button[type=submit]', form);
      if (button && button.disabled) return;
      clearErrors(form);
      var same = $$("[data-same-as]", form).filter(function (el) {
        var other = document.getElementById(el.dataset.sameAs);
        return other && other.value !== el.value;
      });
      if (same.length) {
        showError(form, { error: "Hai lần nhập mật khẩu không khớp.", field: same[0].id });
        return;
      }
      busy(button, true);
      api(form.dataset.method || "POST", form.dataset.url, collect(form)).then(function (r) {
        busy(button, false);
        if (!r.ok) { showError(form, r.data); return; }
        if (done) { done(r.data, r.status); return; }
        if (form.dataset.then) { location.href = form.dataset.then; return; }
        var notice = $("[data-done]", form);
        if (notice) { notice.hidden = false; form.reset(); return; }
        location.reload();
      });
    });
  }

  // ---------------------------------------------------------------------------------
  // Sources list

  function setupSourcesList() {
    var reload = $("[data-reload-config]");
    if (reload) {
      reload.addEventListener("click", function () {
        var status = $("#reload-status");
        busy(reload, true);
        api("POST", "/api/config/reload").then(function (r) {
          busy(reload, false);
          status.className = "status-line " + (r.ok ? "ok" : "bad");
          status.textContent = r.ok
            ? "Đã tải lại tệp cấu hình: " + r.data.sources + " nguồn, " + r.data.topics + " chủ đề, " + r.data.digests + " bản tin. Đang tải lại trang…"
            : (r.data && r.data.error) || "Không tải lại được.";
          if (r.ok) setTimeout(function () { location.reload(); }, 900);
        });
      });
    }
    $$("[data-toggle-source]").forEach(function (b) {
      b.addEventListener("click", function () {
        var id = b.dataset.toggleSource;
        var enable = b.dataset.enabled !== "true";
        busy(b, true);
        api("PATCH", "/api/sources/" + encodeURIComponent(id), { enabled: enable }).then(function (r) {
          busy(b, false);
          if (r.ok) location.reload();
          else window.alert((r.data && r.data.error) || "Không lưu được.");
        });
      });
    });
  }

  // The delete dialog (sources list and edit page): how many items, keep them or not.
  function setupDeleteDialog() {
    var dialog = $("#delete-dialog");
    if (!dialog) return;
    var current = null;
    $$("[data-delete-source]").forEach(function (b) {
      b.addEventListener("click", function () {
        var id = b.dataset.deleteSource;
        var row = document.getElementById("nguon-" + id) || $("#source-meta");
        var n = row ? Number(row.dataset.items || 0) : 0;
        var retired = b.dataset.retired === "true";
        current = { id: id, retired: retired };
        $("#delete-name").textContent = (row && row.dataset.name) || id;
        $("#delete-count").textContent = n === 0 ? "Nguồn này chưa có tin nào." : "Nguồn này có " + n + " tin đã lưu.";
        $("#delete-count-n").textContent = String(n);
        var items = $("#delete-items");
        items.checked = retired;
        items.disabled = retired || n === 0;
        items.closest("label").hidden = n === 0;
        $("#delete-keep").hidden = retired || n === 0;
        clearErrors(dialog);
        if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
      });
    });
    var confirm = $("#delete-confirm");
    confirm.addEventListener("click", function () {
      if (!current) return;
      var withItems = $("#delete-items").checked || current.retired;
      busy(confirm, true);
      var url = "/api/sources/" + encodeURIComponent(current.id) + (withItems ? "?items=delete" : "");
      api("DELETE", url).then(function (r) {
        busy(confirm, false);
        if (!r.ok) { showError(dialog, r.data); return; }
        location.href = "/sources";
      });
    });
  }

  // ---------------------------------------------------------------------------------
  // Adding and editing a source

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function setupSourceForm() {
    var form = $("#source-form");
    if (!form) return;
    var editor = $("#source-editor");
    var kind = $("#f-kind");
    var showKind = function () {
      var k = kind.value;
      $$(".page-only", form).forEach(function (x) { x.hidden = k !== "page"; });
      $$(".feed-only", form).forEach(function (x) { x.hidden = k !== "feed"; });
      $("#f-url").required = k !== "manual";
    };
    kind.addEventListener("change", showKind);
    form.addEventListener("change", showKind);
    if (form.dataset.source) {
      try { fill(form, JSON.parse(form.dataset.source)); } catch (e) { /* keep the empty form */ }
    }
    showKind();

    var show = function (values) {
      editor.hidden = false;
      fill(form, values);
      showKind();
      editor.scrollIntoView({ behavior: "smooth", block: "start" });
      $("#f-name").focus();
    };

    var discover = $("#discover-form");
    if (discover) {
      var found = null;
      discover.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var button = $("#discover-button");
        if (button.disabled) return;
        clearErrors($("#discover"));
        busy(button, true);
        api("POST", "/api/sources/discover", { url: $("#discover-url").value.trim() }).then(function (r) {
          busy(button, false);
          if (!r.ok) { showError($("#discover"), r.data); return; }
          found = r.data;
          var list = $("#feed-choices");
          list.textContent = "";
          $("#discover-results").hidden = false;
          $("#discover-summary").textContent = found.feeds.length
            ? "Tìm thấy " + found.feeds.length + " nguồn tin" + (found.page_title ? " trên “" + found.page_title + "”" : "") + ". Chọn một:"
            : "Trang này không giới thiệu nguồn RSS/Atom nào. Có thể đọc nó như trang web bằng bộ chọn CSS:";
          found.feeds.forEach(function (f, i) {
            var li = el("li");
            var text = el("span");
            text.appendChild(el("strong", f.title || f.name));
            text.appendChild(document.createElement("br"));
            text.appendChild(el("span", f.url, "via"));
            li.appendChild(text);
            var choose = el("button", f.known ? "Đã có trong cấu hình" : "Chọn nguồn này", "small feed-choice");
            choose.type = "button";
            choose.disabled = !!f.known;
            choose.dataset.index = String(i);
            choose.addEventListener("click", function () {
              show({ kind: "feed", id: f.id, name: f.name, url: f.url, enabled: true, obey_robots: true });
            });
            li.appendChild(choose);
            list.appendChild(li);
          });
        });
      });
      $("#choose-page").addEventListener("click", function () {
        if (!found) return;
        var p = found.page_source;
        show({ kind: "page", id: p.id, name: p.name, url: p.url, selectors: p.selectors, enabled: true, obey_robots: true });
      });
    }

    $("#check-button").addEventListener("click", function () {
      var button = $("#check-button");
      if (button.disabled) return;
      clearErrors(form);
      busy(button, true);
      var body = collect(form);
      Object.keys(body).forEach(function (k) { if (body[k] === null) delete body[k]; });
      if (form.dataset.method === "PATCH") body.id = $("#f-id").value;
      api("POST", "/api/sources/check", body).then(function (r) {
        busy(button, false);
        var section = $("#check");
        if (!r.ok) { showError(form, r.data); section.hidden = true; return; }
        section.hidden = false;
        var items = $("#check-items");
        var errors = $("#check-errors");
        items.textContent = "";
        errors.textContent = "";
        $("#check-summary").textContent = r.data.items.length
          ? "Lần tải này sẽ lưu " + r.data.items.length + " tin:"
          : "Lần tải này không lưu được tin nào.";
        r.data.errors.forEach(function (e) { errors.appendChild(el("li", e)); });
        r.data.items.forEach(function (it) {
          var li = el("li", null, "checked-item");
          li.appendChild(el("strong", it.title, "checked-title"));
          var when = "không có ngày";
          if (it.published) {
            try {
              when = new Date(it.published).toLocaleString("vi-VN", {
                timeZone: section.dataset.tz || undefined, hour: "2-digit", minute: "2-digit",
                day: "2-digit", month: "2-digit", year: "numeric"
              });
            } catch (e) { when = it.published; }
          }
          var meta = el("p", [when, it.url || "không có liên kết"].join(" · "), "meta");
          li.appendChild(meta);
          if (it.text) li.appendChild(el("p", it.text));
          items.appendChild(li);
        });
        section.scrollIntoView({ behavior: "smooth", block: "start" });
      });
    });

    apiForm(form, function (data) {
      var id = data.id;
      location.href = "/sources?saved=" + encodeURIComponent(id) + "#nguon-" + encodeURIComponent(id);
    });
  }

  // ---------------------------------------------------------------------------------
  // OPML import

  function setupImport() {
    var form = $("#import-form");
    if (!form) return;
    var text = null;
    var list = function (ul, rows, render) {
      ul.textContent = "";
      rows.forEach(function (r) { ul.appendChild(render(r)); });
      if (!rows.length) ul.appendChild(el("li", "(không có)", "empty"));
    };
    var showPlan = function (data) {
      $("#import-plan").hidden = false;
      $("#plan-added-count").textContent = "(" + data.added.length + ")";
      $("#plan-skipped-count").textContent = "(" + data.skipped.length + ")";
      list($("#plan-added"), data.added, function (s) {
        return el("li", s.name + " — " + (s.url || "dán tay") + " (mã " + s.id + ")");
      });
      list($("#plan-skipped"), data.skipped, function (s) {
        return el("li", s.name + " — " + (s.url || "") + ": " + s.reason);
      });
      var go = $("#opml-import");
      go.hidden = !data.preview || data.added.length === 0;
      go.textContent = "Nhập " + data.added.length + " nguồn";
    };
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearErrors(form);
      var file = $("#opml-file").files[0];
      if (!file) return;
      var button = $("#opml-preview");
      busy(button, true);
      file.text().then(function (t) {
        text = t;
        return api("POST", "/api/sources/import?preview=1", undefined, t);
      }).then(function (r) {
        busy(button, false);
        $("#import-done").hidden = true;
        if (!r.ok) { showError(form, r.data); return; }
        showPlan(r.data);
      });
    });
    $("#opml-import").addEventListener("click", function () {
      var go = $("#opml-import");
      if (text === null || go.disabled) return;
      busy(go, true);
      api("POST", "/api/sources/import", undefined, text).then(function (r) {
        busy(go, false);
        if (!r.ok) { showError(form, r.data); return; }
        go.hidden = true;
        var done = $("#import-done");
        done.hidden = false;
        done.textContent = "Đã nhập " + r.data.added.length + " nguồn; gomtin bắt đầu tải chúng. ";
        var a = el("a", "Xem danh sách nguồn");
        a.href = "/sources";
        done.appendChild(a);
      });
    });
  }

  // ---------------------------------------------------------------------------------
  // Accounts

  function userAction(button, method, url, body, after) {
    busy(button, true);
    api(method, url, body).then(function (r) {
      busy(button, false);
      if (!r.ok) {
        var err = $("#users-error");
        var msg = (r.data && r.data.error) || "Không làm được.";
        if (err) err.textContent = msg; else window.alert(msg);
        return;
      }
      if (after) after(r.data); else location.reload();
    });
  }

  function handOver(name, password) {
    var box = $("#handover");
    box.hidden = false;
    $("#handover-name").textContent = name;
    $("#handover-password").textContent = password;
    box.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  function setupUsers() {
    var form = $("#user-form");
    if (!form) return;
    var password = $("#u-password");
    $$("input[name=password_mode]", form).forEach(function (r) {
      r.addEventListener("change", function () {
        var set = $("input[name=password_mode]:checked", form).value === "set";
        password.hidden = !set;
        password.required = set;
        if (!set) password.value = "";
      });
    });
    // A one-time password survives the reload that lists the new account (this tab only).
    var kept = null;
    try { kept = JSON.parse(sessionStorage.getItem("gomtin-handover") || "null"); } catch (e) { kept = null; }
    if (kept) {
      sessionStorage.removeItem("gomtin-handover");
      handOver(kept.name, kept.password);
    }
    apiForm(form, function (data) {
      if (data.one_time_password) {
        try {
          sessionStorage.setItem("gomtin-handover", JSON.stringify({ name: data.name, password: data.one_time_password }));
        } catch (e) {
          handOver(data.name, data.one_time_password);
          return;
        }
      }
      location.reload();
    });
    var base = function (name) { return "/api/users/" + encodeURIComponent(name); };
    $$("[data-user-role]").forEach(function (s) {
      s.addEventListener("change", function () {
        userAction(s, "PATCH", base(s.dataset.userRole), { role: s.value });
      });
    });
    $$("[data-toggle-user]").forEach(function (b) {
      b.addEventListener("click", function () {
        userAction(b, "PATCH", base(b.dataset.toggleUser), { disabled: b.dataset.disabled !== "true" });
      });
    });
    $$("[data-reset-password]").forEach(function (b) {
      b.addEventListener("click", function () {
        var name = b.dataset.resetPassword;
        if (!window.confirm("Đặt lại mật khẩu của " + name + "? Các phiên đăng nhập của họ sẽ kết thúc.")) return;
        userAction(b, "PATCH", base(name), { reset_password: true }, function (data) {
          try {
            sessionStorage.setItem("gomtin-handover", JSON.stringify({ name: name, password: data.one_time_password }));
            location.reload();
          } catch (e) {
            handOver(name, data.one_time_password);
          }
        });
      });
    });
    $$("[data-revoke-tokens]").forEach(function (b) {
      b.addEventListener("click", function () {
        var name = b.dataset.revokeTokens;
        if (!window.confirm("Thu hồi mọi mã API của " + name + "?")) return;
        userAction(b, "DELETE", base(name) + "/tokens");
      });
    });
    $$("[data-delete-user]").forEach(function (b) {
      b.addEventListener("click", function () {
        var name = b.dataset.deleteUser;
        if (!window.confirm("Xoá tài khoản " + name + "? Lịch sử chia sẻ của họ vẫn giữ tên.")) return;
        userAction(b, "DELETE", base(name));
      });
    });
  }

  function setupAccount() {
    var pw = $("#password-form");
    if (pw) apiForm(pw);
    var tokens = $("#token-form");
    if (tokens) {
      tokens.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var button = $("#token-create");
        if (button.disabled) return;
        clearErrors(tokens.parentNode);
        busy(button, true);
        var url = "/api/users/" + encodeURIComponent(tokens.dataset.user) + "/tokens";
        api("POST", url, { label: $("#t-label").value }).then(function (r) {
          busy(button, false);
          if (!r.ok) { showError(tokens.parentNode, r.data); return; }
          $("#token-handover").hidden = false;
          $("#token-value").textContent = r.data.token;
        });
      });
    }
    $$("[data-revoke-token]").forEach(function (b) {
      b.addEventListener("click", function () {
        var url = "/api/users/" + encodeURIComponent(b.dataset.user) + "/tokens/" + encodeURIComponent(b.dataset.revokeToken);
        userAction(b, "DELETE", url);
      });
    });
  }

  // ---------------------------------------------------------------------------------
  // Topics and digests: one form that adds, or changes the entry chosen with "Sửa".

  function editable(form, base, title, added, changed) {
    // (form.id would be its field named "id")
    var fresh = $("#" + form.getAttribute("id").replace("-form", "-new"));
    var id = $('[name=id]', form);
    var edit = function (entry) {
      clearErrors(form);
      fill(form, entry);
      form.dataset.method = "PATCH";
      form.dataset.url = base + "/" + encodeURIComponent(entry.id);
      id.readOnly = true;
      $("#" + title).textContent = changed + " " + entry.id;
      if (fresh) fresh.hidden = false;
      form.scrollIntoView({ behavior: "smooth", block: "start" });
    };
    if (fresh) {
      fresh.addEventListener("click", function () {
        form.reset();
        form.dataset.method = "POST";
        form.dataset.url = base;
        id.readOnly = false;
        $("#" + title).textContent = added;
        fresh.hidden = true;
        form.dispatchEvent(new Event("change"));
      });
    }
    apiForm(form);
    return edit;
  }

  function setupTopics() {
    var form = $("#topic-form");
    if (!form) return;
    var edit = editable(form, "/api/topics", "topic-form-title", "Thêm chủ đề", "Sửa chủ đề");
    $$("[data-edit-topic]").forEach(function (b) {
      b.addEventListener("click", function () { edit(JSON.parse(b.dataset.editTopic)); count(); });
    });
    $$("[data-delete-topic]").forEach(function (b) {
      b.addEventListener("click", function () {
        var id = b.dataset.deleteTopic;
        if (!window.confirm("Xoá chủ đề " + id + "? Các tin không mất, chỉ bỏ nhãn chủ đề.")) return;
        busy(b, true);
        api("DELETE", "/api/topics/" + encodeURIComponent(id)).then(function (r) {
          busy(b, false);
          if (r.ok) location.reload(); else window.alert((r.data && r.data.error) || "Không xoá được.");
        });
      });
    });
    // The live count of matching items, while the query is typed.
    var query = $("#topic-query");
    var out = $("#topic-count");
    var timer = null;
    var seq = 0;
    var count = function () {
      var q = query.value.trim();
      var mine = ++seq;
      var slot = $('[data-error-for="query"]', form);
      if (!q) { out.textContent = ""; slot.textContent = ""; return; }
      out.textContent = "Đang đếm…";
      api("GET", "/api/topics/count?q=" + encodeURIComponent(q)).then(function (r) {
        if (mine !== seq) return;
        if (!r.ok) { out.textContent = ""; slot.textContent = (r.data && r.data.error) || ""; return; }
        slot.textContent = "";
        out.textContent = "";
        out.appendChild(el("strong", r.data.count + " tin"));
        out.appendChild(document.createTextNode(" đang lưu khớp câu này" + (r.data.examples.length ? ", ví dụ: " + r.data.examples.join(" · ") : ".")));
      });
    };
    query.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(count, 300);
    });
  }

  function setupDigests() {
    var smtp = $("#smtp-form");
    if (smtp) {
      if (smtp.dataset.source) {
        try {
          var s = JSON.parse(smtp.dataset.source);
          fill(smtp, s);
        } catch (e) { /* keep the empty form */ }
      }
      apiForm(smtp);
    }
    var form = $("#digest-form");
    if (!form) return;
    var edit = editable(form, "/api/digests", "digest-form-title", "Thêm bản tin", "Sửa bản tin");
    // The schedule helper: days and a time make the cron line; a typed line is kept.
    var days = $("#d-days"), time = $("#d-time"), cron = $("#d-schedule"), words = $("#d-schedule-words");
    var fromHelper = function () {
      if (days.value === "custom") { cron.readOnly = false; cron.focus(); return; }
      var t = (time.value || "07:00").split(":");
      cron.value = Number(t[1]) + " " + Number(t[0]) + " * * " + days.value;
      cron.readOnly = false;
      describe();
    };
    var describe = function () {
      var f = cron.value.trim().split(/\s+/);
      var dayWords = { "*": "hằng ngày", "1-5": "từ thứ Hai đến thứ Sáu", "1": "thứ Hai hằng tuần" };
      if (f.length === 5 && /^\d+$/.test(f[0]) && /^\d+$/.test(f[1]) && f[2] === "*" && f[3] === "*" && dayWords[f[4]]) {
        var hh = ("0" + f[1]).slice(-2), mm = ("0" + f[0]).slice(-2);
        words.textContent = "Gửi lúc " + hh + ":" + mm + " " + dayWords[f[4]] + ".";
        days.value = f[4];
        time.value = hh + ":" + mm;
      } else {
        words.textContent = "Lịch cron năm trường: phút giờ ngày tháng thứ (ví dụ 0 7 * * * là 07:00 hằng ngày).";
        days.value = "custom";
      }
    };
    days.addEventListener("change", fromHelper);
    time.addEventListener("change", fromHelper);
    cron.addEventListener("input", describe);
    form.addEventListener("change", function (ev) { if (ev.target !== days && ev.target !== time) describe(); });
    describe();
    $$("[data-edit-digest]").forEach(function (b) {
      b.addEventListener("click", function () {
        api("GET", "/api/digests").then(function (r) {
          if (!r.ok) return;
          var entry = r.data.filter(function (d) { return d.id === b.dataset.editDigest; })[0];
          if (entry) { edit(entry); describe(); }
        });
      });
    });
    $$("[data-delete-digest]").forEach(function (b) {
      b.addEventListener("click", function () {
        var id = b.dataset.deleteDigest;
        if (!window.confirm("Xoá bản tin " + id + "? Sổ các kỳ đã gửi vẫn giữ.")) return;
        busy(b, true);
        api("DELETE", "/api/digests/" + encodeURIComponent(id)).then(function (r) {
          busy(b, false);
          if (r.ok) location.reload(); else window.alert((r.data && r.data.error) || "Không xoá được.");
        });
      });
    });
    $$("[data-send-digest]").forEach(function (b) {
      var send = function (force) {
        var id = b.dataset.sendDigest;
        var status = $('[data-send-status="' + id + '"]');
        busy(b, true);
        api("POST", "/api/digests/" + encodeURIComponent(id) + "/send", { force: force }).then(function (r) {
          busy(b, false);
          status.className = "status-line " + (r.ok ? "ok" : "bad");
          if (!r.ok) { status.textContent = (r.data && r.data.error) || "Không gửi được."; return; }
          if (r.data.already_done) {
            status.textContent = "Kỳ gần nhất đã được gửi rồi. ";
            var again = el("button", "Gửi lại kỳ đó", "small secondary");
            again.type = "button";
            again.addEventListener("click", function () { send(true); });
            status.appendChild(again);
            return;
          }
          var sent = r.data.attempts.filter(function (a) { return a.status === "sent"; }).length;
          var failed = r.data.attempts.filter(function (a) { return a.status !== "sent"; });
          status.textContent = "Đã gửi " + sent + "/" + r.data.attempts.length + " thư." +
            failed.map(function (a) { return " " + a.recipient + ": " + a.reply; }).join(";");
          if (failed.length) status.className = "status-line bad";
          setTimeout(function () { location.reload(); }, 2500);
        });
      };
      b.addEventListener("click", function () { send(false); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupSourcesList();
    setupDeleteDialog();
    setupSourceForm();
    setupImport();
    setupUsers();
    setupAccount();
    setupTopics();
    setupDigests();
    // Plain forms ("Tải ngay"): the button says it is working, and a second click waits.
    $$("form[method=post] button[data-busy]").forEach(function (b) {
      b.form.addEventListener("submit", function (ev) {
        if (b.disabled) { ev.preventDefault(); return; }
        setTimeout(function () { busy(b, true); }, 0);
      });
    });
  });
})();
