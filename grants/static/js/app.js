// Progressive enhancement only: every action also works without JavaScript.
(function () {
  "use strict";

  // Live character counters for fields with a limit.
  function setupCounter(field) {
    var max = parseInt(field.getAttribute("data-max-chars"), 10);
    var out = document.getElementById(field.id + "-count");
    if (!max || !out) { return; }
    var template = document.documentElement.lang === "en"
      ? function (n) { return n + " of " + max + " characters"; }
      : function (n) { return n + " av " + max + " tecken"; };
    function update() {
      var n = field.value.length;
      out.textContent = template(n);
      out.classList.toggle("over", n > max);
    }
    field.addEventListener("input", update);
    update();
  }
  document.querySelectorAll("[data-max-chars]").forEach(setupCounter);

  // A link made before the application had tabs (…/applications/7#decision) names a part of
  // the page that now lives on a tab of its own: go on to that tab, keeping the anchor.
  var workspace = document.querySelector("[data-moved-anchors]");
  var anchor = decodeURIComponent(location.hash.slice(1));
  if (workspace && anchor && !document.getElementById(anchor)) {
    var moved = JSON.parse(workspace.getAttribute("data-moved-anchors"));
    var target = moved[anchor] || moved[anchor.replace(/-[^-]*$/, "-")];
    if (target && target !== location.pathname) { location.replace(target + location.hash); }
  }

  // Move focus to the error summary after a failed submit.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  // Poll unfinished PDF jobs and update them in place (status, links); the list is an
  // aria-live region, so screen readers hear "Done". Without JavaScript the page shows the
  // status at load time and a reload shows the result.
  function renderLinks(el, links) {
    var target = el.querySelector("[data-job-links]") || el;
    links.forEach(function (link) {
      var a = document.createElement("a");
      a.href = link.url; a.textContent = link.label; a.className = "job-download";
      target.appendChild(a);
      target.appendChild(document.createTextNode(" "));
    });
  }
  function poll(el) {
    var timer = setInterval(function () {
      fetch(el.getAttribute("data-job-url"), { headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var status = el.querySelector("[data-status]");
          if (status && status.getAttribute("data-status") !== data.status) {
            status.setAttribute("data-status", data.status);
            status.textContent = data.status_label;
          }
          if (data.status === "done" || data.status === "failed") {
            clearInterval(timer);
            el.removeAttribute("data-job-url");
            el.className = el.className.replace(/job-(queued|running)/, "job-" + data.status);
            var progress = el.querySelector("progress");
            if (progress) { progress.remove(); }
            if (data.status === "done") { renderLinks(el, data.links || []); }
            else if (data.error) {
              var reason = document.createElement("span");
              reason.className = "job-error"; reason.textContent = data.error;
              el.appendChild(reason);
            }
          }
        });
    }, 1000);
  }
  document.querySelectorAll("[data-job-url]").forEach(poll);
}());

// Conditional fields: show a field only when the field it depends on has a matching value.
(function () {
  "use strict";
  var dependents = document.querySelectorAll("[data-show-when]");
  if (!dependents.length) { return; }
  document.documentElement.classList.add("js");
  function currentValues(name) {
    var inputs = document.querySelectorAll("[name='" + name + "']");
    var values = [];
    inputs.forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) { return; }
      var v = input.value;
      values.push(v === "yes" ? "true" : v === "no" ? "false" : JSON.stringify(v));
    });
    return values;
  }
  function update() {
    dependents.forEach(function (el) {
      var name = el.getAttribute("data-show-when");
      if (!document.querySelector("[name='" + name + "']")) { return; }  // decided by the server
      var wanted = el.getAttribute("data-show-values").split("|");
      var have = currentValues(el.getAttribute("data-show-when"));
      var show = have.some(function (v) { return wanted.indexOf(v) !== -1; });
      el.classList.toggle("is-hidden-by-condition", !show);
    });
  }
  document.addEventListener("change", update);
  update();
}());

// Autosave: while someone types, the section is saved every 20 seconds (as a normal save,
// with the version check). Anything not saved stays in the form; Save shows why.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave='on']");
  var status = document.getElementById("autosave-status");
  if (!form || !status || !window.fetch || !window.FormData) { return; }
  var dirty = false, busy = false;
  form.addEventListener("input", function () { dirty = true; });
  function save() {
    if (!dirty || busy) { return; }
    busy = true; dirty = false;
    fetch(form.action || window.location.href, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Autosave": "1", "Accept": "application/json" }
    }).then(function (r) { return r.json(); }).then(function (data) {
      status.textContent = data.message || "";
      if (data.saved && data.version !== undefined) {
        var version = form.querySelector("input[name='version']");
        if (version) { version.value = data.version; }
      } else if (!data.saved) { dirty = true; }
    }).catch(function () { dirty = true; }).then(function () { busy = false; });
  }
  setInterval(save, 20000);
}());

// The main menu on a wide screen, in a browser that cannot show a closed <details> open with CSS
// (::details-content): open it there, fold it again on a narrow screen.
(function () {
  "use strict";
  var menu = document.querySelector(".nav-menu");
  if (!menu || !window.matchMedia || (window.CSS && CSS.supports("selector(::details-content)"))) {
    return;
  }
  var wide = window.matchMedia("(min-width: 50.0625rem)");
  function follow() {
    menu.classList.toggle("is-wide", wide.matches);
    menu.open = wide.matches;
  }
  wide.addEventListener("change", follow);
  follow();
}());

// A table box that scrolls sideways becomes a named region one can reach by keyboard (and scroll
// with the arrow keys); one that fits is neither a tab stop nor a landmark.
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".table-scroll[data-scroll-label]");
  if (!boxes.length) { return; }
  function update(box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.setAttribute("role", "region");
      box.setAttribute("tabindex", "0");
      box.setAttribute("aria-label", box.getAttribute("data-scroll-label"));
    } else if (box.hasAttribute("role")) {
      box.removeAttribute("role");
      box.removeAttribute("tabindex");
      box.removeAttribute("aria-label");
    }
  }
  boxes.forEach(update);
  if (window.ResizeObserver) {
    var observer = new ResizeObserver(function (entries) {
      entries.forEach(function (entry) { update(entry.target.closest(".table-scroll")); });
    });
    boxes.forEach(function (box) {
      observer.observe(box);
      if (box.firstElementChild) { observer.observe(box.firstElementChild); }
    });
  } else {
    window.addEventListener("resize", function () { boxes.forEach(update); });
  }
}());

// Who else is editing this section: renew this page's lease while it is open, show the
// others in the live region, give the lease back when the page closes.
(function () {
  var box = document.querySelector("[data-presence-url]");
  if (!box) return;
  var token = box.querySelector("input[name=csrf_token]");
  var text = box.querySelector(".presence-message");
  var every = Math.max(1, parseInt(box.getAttribute("data-presence-seconds"), 10) / 3) * 1000;
  function body() {
    var data = new FormData();
    if (token) data.append("csrf_token", token.value);
    return data;
  }
  function renew() {
    if (document.hidden) return;
    fetch(box.getAttribute("data-presence-url"), {
      method: "POST", body: body(), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (!data) return;
      if (text.textContent !== data.message) text.textContent = data.message;
      box.classList.toggle("notice-warning", !!data.message);
    }).catch(function () {});
  }
  setInterval(renew, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) renew(); });
  window.addEventListener("pagehide", function () {
    if (navigator.sendBeacon) navigator.sendBeacon(box.getAttribute("data-presence-leave"), body());
  });
})();
// Comment forms: the names of those who can be mentioned become buttons that write "@Name "
// into the comment at the cursor (typing the mention works as well).
(function () {
  "use strict";
  document.querySelectorAll("[data-mention-for]").forEach(function (list) {
    var field = document.getElementById(list.getAttribute("data-mention-for"));
    if (!field) { return; }
    list.querySelectorAll("[data-mention]").forEach(function (name) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link-button mention-button";
      button.textContent = name.textContent;
      button.addEventListener("click", function () {
        var text = "@" + name.getAttribute("data-mention") + " ";
        var start = field.selectionStart || 0, end = field.selectionEnd || 0;
        var before = field.value.slice(0, start);
        if (before && !/\s$/.test(before)) { text = " " + text; }
        field.value = before + text + field.value.slice(end);
        field.focus();
        field.selectionStart = field.selectionEnd = start + text.length;
        field.dispatchEvent(new Event("input"));
      });
      name.replaceWith(button);
    });
  });
}());
