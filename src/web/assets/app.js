// gomtin — the little JavaScript the staff pages use. Served from /static/app.js (the
// Content-Security-Policy allows no inline script). Everything works without it except
// copying to the clipboard and auto-submitting filters.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Filters: changing a select or the "chưa chia sẻ" box runs the search again.
  document.querySelectorAll("[data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () {
      if (el.form) el.form.submit();
    });
  });

  // "Quay lại": go back when we came from this site, else to the search page.
  document.querySelectorAll("[data-back]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      if (document.referrer && new URL(document.referrer).origin === location.origin) {
        ev.preventDefault();
        history.back();
      }
    });
  });

  // "Sao chép bài chia sẻ": copy the prepared text.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById("copy-status");
      if (!source) return;
      var text = source.value;
      var done = function () {
        if (status) status.textContent = "Đã sao chép vào bộ nhớ tạm.";
      };
      var fallback = function () {
        source.focus();
        source.select();
        var ok = false;
        try {
          ok = document.execCommand("copy");
        } catch (e) {
          ok = false;
        }
        if (ok) {
          done();
        } else if (status) {
          status.textContent = "Không sao chép tự động được: văn bản đã được chọn, hãy nhấn Ctrl+C.";
        }
      };
      if (navigator.clipboard && window.isSecureContext) {
        // Some browsers leave the promise pending (no permission prompt possible): fall
        // back after a second so the person is never left without an answer.
        var settled = false;
        var once = function (f) {
          return function () {
            if (!settled) {
              settled = true;
              f();
            }
          };
        };
        navigator.clipboard.writeText(text).then(once(done), once(fallback));
        setTimeout(once(fallback), 1000);
      } else {
        fallback();
      }
    });
  });
});
