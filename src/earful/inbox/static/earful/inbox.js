// Keyboard shortcuts, the composer's character count, canned replies and the tone
// guard's "use the suggestion". Plain script: no build step. Never builds HTML from text.
(function () {
  "use strict";
  var pendingG = false;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("li.row[data-href]")); }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var at = list.findIndex(function (row) { return row.classList.contains("selected"); });
    var next = Math.min(Math.max(at + step, 0), list.length - 1);
    list.forEach(function (row) { row.classList.remove("selected"); });
    list[next].classList.add("selected");
    list[next].scrollIntoView({ block: "nearest" });
  }

  function focus(id) {
    var el = document.getElementById(id);
    if (el) { el.focus(); return true; }
    return false;
  }

  function click(id) {
    var el = document.getElementById(id);
    if (el) el.click();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "i") { var home = document.querySelector(".main-nav a"); if (home) window.location = home.href; }
      return;
    }
    if (key === "j") move(1);
    else if (key === "k") move(-1);
    else if (key === "Enter") {
      var selected = document.querySelector("li.row.selected");
      if (selected) window.location = selected.getAttribute("data-href");
      else return;
    } else if (key === "/") { if (!focus("search")) return; }
    else if (key === "r") { if (!focus("reply-text")) return; }
    else if (key === "n") { if (!focus("note-text")) return; }
    else if (key === "a") click("assign-me");
    else if (key === "e") click("resolve");
    else if (key === "g") pendingG = true;
    else if (key === "?") { var help = document.getElementById("shortcuts"); if (help) help.showModal(); }
    else return;
    event.preventDefault();
  });

  document.addEventListener("input", function (event) {
    if (event.target.id === "reply-text") {
      var count = document.getElementById("chars");
      if (count) count.textContent = String(event.target.value.length);
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.hasAttribute("data-canned") && event.target.value) {
      var text = document.getElementById("reply-text");
      text.value = event.target.value;
      text.dispatchEvent(new Event("input", { bubbles: true }));
    }
  });

  document.addEventListener("click", function (event) {
    if (event.target.hasAttribute("data-use-suggestion")) {
      var suggestion = document.querySelector("#tone .suggestion");
      var text = document.getElementById("reply-text");
      if (suggestion && text) {
        text.value = suggestion.textContent;
        text.dispatchEvent(new Event("input", { bubbles: true }));
      }
    }
  });
})();
