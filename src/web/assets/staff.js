// gomtin — the staff's day: one-tap copy on every result, "paste what you copied" on the
// Facebook/Zalo buttons, the filters behind "Bộ lọc" on a phone, the search help, the
// keyboard shortcuts (/ j k o c s ?), and the service worker that makes the app
// installable (so the phone's share sheet offers gomtin). Served from /static/staff.js;
// the Content-Security-Policy allows no inline script. Every page works without it.
"use strict";

(function () {
  document.documentElement.classList.add("js");

  // Copy `text` to the clipboard; `done(ok)` says how it went.
  function copyText(text, done) {
    var fallback = function () {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      done(ok);
    };
    if (navigator.clipboard && window.isSecureContext) {
      var settled = false;
      var once = function (f) {
        return function () {
          if (!settled) {
            settled = true;
            f();
          }
        };
      };
      navigator.clipboard.writeText(text).then(once(function () { done(true); }), once(fallback));
      // A promise some browsers leave pending (no prompt possible): fall back.
      setTimeout(once(fallback), 1000);
    } else {
      fallback();
    }
  }
  window.gomtinCopy = copyText;

  function say(el, text) {
    if (el) el.textContent = text;
  }

  function copyHit(button) {
    var status = button.parentNode.querySelector(".copy-status");
    copyText(button.getAttribute("data-copy-text") || "", function (ok) {
      say(status, ok ? "Đã sao chép" : "Không sao chép được: mở tin để chép tay");
      if (ok) button.classList.add("copied");
    });
  }

  function isTyping(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("DOMContentLoaded", function () {
    // One-tap copy on each result.
    document.querySelectorAll(".copy-hit").forEach(function (b) {
      b.addEventListener("click", function () { copyHit(b); });
    });

    // Facebook / Zalo: copy the (edited) text first, then open the share page.
    document.querySelectorAll("[data-copy-first]").forEach(function (a) {
      a.addEventListener("click", function () {
        var source = document.getElementById(a.getAttribute("data-copy-first"));
        var status = document.getElementById("copy-status");
        if (!source) return;
        copyText(source.value, function (ok) {
          say(status, ok
            ? "Đã sao chép: trong khung đăng bài vừa mở, hãy dán bài."
            : "Chưa sao chép được: bấm Sao chép trước, rồi dán vào khung đăng bài.");
        });
      });
    });

    // Filters behind "Bộ lọc" on a phone (always shown on a wide screen, see staff.css).
    var filters = document.getElementById("filters");
    var toggle = document.getElementById("filters-toggle");
    if (filters && toggle) {
      toggle.addEventListener("click", function () {
        var open = filters.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }

    // "?" beside the search box: the syntax help.
    var help = document.getElementById("search-help");
    var helpButton = document.getElementById("help-toggle");
    var toggleHelp = function () {
      if (!help) return;
      help.hidden = !help.hidden;
      if (helpButton) helpButton.setAttribute("aria-expanded", help.hidden ? "false" : "true");
    };
    if (helpButton) helpButton.addEventListener("click", toggleHelp);

    // The shortcut list.
    var shortcuts = document.getElementById("shortcuts");
    var closeShortcuts = document.getElementById("shortcuts-close");
    var toggleShortcuts = function () {
      if (!shortcuts) return;
      shortcuts.hidden = !shortcuts.hidden;
      if (!shortcuts.hidden && closeShortcuts) closeShortcuts.focus();
    };
    if (closeShortcuts) closeShortcuts.addEventListener("click", toggleShortcuts);

    // The item page opened from a result's "s": straight to "Đánh dấu đã chia sẻ".
    if (location.hash === "#danh-dau") {
      var channel = document.getElementById("share-channel");
      if (channel) channel.focus();
    }

    var q = document.getElementById("q");
    var hits = function () {
      return Array.prototype.slice.call(document.querySelectorAll("#results li.hit"));
    };
    var current = -1;
    var select = function (i) {
      var list = hits();
      if (!list.length) return;
      current = Math.max(0, Math.min(i, list.length - 1));
      list.forEach(function (li, n) { li.classList.toggle("current", n === current); });
      var link = list[current].querySelector(".hit-title");
      if (link) link.focus();
      list[current].scrollIntoView({ block: "nearest" });
    };
    var currentHit = function () {
      var list = hits();
      if (current < 0) {
        // The result holding the focus, if any.
        current = list.findIndex(function (li) { return li.contains(document.activeElement); });
      }
      return current >= 0 ? list[current] : null;
    };

    if (q) {
      q.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape" || (ev.key === "ArrowDown" && hits().length)) {
          ev.preventDefault();
          if (hits().length) select(0); else q.blur();
        }
      });
    }

    document.addEventListener("keydown", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === "Escape" && shortcuts && !shortcuts.hidden) {
        toggleShortcuts();
        return;
      }
      if (isTyping(ev.target)) return;
      var hit;
      switch (ev.key) {
        case "/":
          if (q) {
            ev.preventDefault();
            q.focus();
            q.select();
          }
          break;
        case "j":
          ev.preventDefault();
          select(currentHit() ? current + 1 : 0);
          break;
        case "k":
          ev.preventDefault();
          select(currentHit() ? current - 1 : 0);
          break;
        case "o":
          hit = currentHit();
          if (hit) {
            ev.preventDefault();
            location.href = hit.getAttribute("data-href");
          }
          break;
        case "c":
          hit = currentHit();
          if (hit && hit.querySelector(".copy-hit")) {
            ev.preventDefault();
            copyHit(hit.querySelector(".copy-hit"));
          } else if (document.getElementById("copy-share")) {
            ev.preventDefault();
            document.getElementById("copy-share").click();
          }
          break;
        case "s":
          hit = currentHit();
          if (hit) {
            ev.preventDefault();
            location.href = hit.getAttribute("data-href") + "#danh-dau";
          } else if (document.getElementById("mark-shared")) {
            ev.preventDefault();
            document.getElementById("mark-shared").click();
          }
          break;
        case "?":
          ev.preventDefault();
          toggleShortcuts();
          break;
        default:
          break;
      }
    });
  });

  // Installable app (no offline data; see /sw.js).
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
})();
