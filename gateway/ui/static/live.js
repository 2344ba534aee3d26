// Live updates of the operator dashboard over the hub's own event streams
// (GET /v1/transfers/{id}/events, server-sent events). No framework, no inline
// script (the Content-Security-Policy allows only this file), and text is only
// ever set with textContent, never parsed as HTML.
"use strict";

(function () {
  // The hub's terminal transfer states, rendered by the server (core.states).
  let TERMINAL = new Set();

  function badge(state) {
    const span = document.createElement("span");
    span.className = "state state-" + state;
    span.textContent = state;
    return span;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text;
    return td;
  }

  function when(seconds) {
    return new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  // One stream per transfer; the server replays the history from the start, so lines
  // already on the page (id <= last) are skipped. The stream is closed at a terminal
  // state (else EventSource would reconnect for ever).
  function follow(id, last, onLine) {
    const source = new EventSource("/v1/transfers/" + encodeURIComponent(id) + "/events");
    source.addEventListener("transfer", function (message) {
      const line = JSON.parse(message.data);
      if (line.id <= last) return;
      last = line.id;
      onLine(line);
      if (TERMINAL.has(line.state)) source.close();
    });
    return source;
  }

  function transferPage(article) {
    const id = article.dataset.stream.split("/")[3];
    const state = document.getElementById("transfer-state");
    const reason = document.getElementById("transfer-reason");
    const live = document.getElementById("live");
    const timeline = document.querySelector("#timeline tbody");
    const txs = document.querySelector("#transactions tbody");
    if (article.dataset.terminal === "yes") return;
    live.textContent = "· live";
    let applied = 0;
    follow(id, Number(article.dataset.lastEvent || 0), function (line) {
      applied += 1;
      article.dataset.applied = String(applied);
      state.dataset.state = line.state;
      state.replaceChildren(badge(line.state));
      reason.textContent = line.reason;
      const row = document.createElement("tr");
      row.dataset.event = String(line.id);
      row.className = "fresh";
      const stateCell = document.createElement("td");
      stateCell.appendChild(badge(line.state));
      row.append(
        cell(when(line.at), "when"),
        stateCell,
        cell(line.reason, "reason"),
        cell(line.tx_hash ? (line.chain_id || "") + " " + line.tx_hash : "", "addr")
      );
      timeline.appendChild(row);
      if (line.tx_hash && !txs.textContent.includes(line.tx_hash)) {
        const empty = txs.querySelector(".empty-row");
        if (empty) empty.remove();
        const tx = document.createElement("tr");
        tx.append(cell(line.state), cell(line.chain_id || "-"), cell(line.tx_hash, "addr"));
        txs.appendChild(tx);
      }
      if (TERMINAL.has(line.state)) {
        live.textContent = "";
        const retry = document.getElementById("retry");
        if (retry) retry.remove(); // nothing left to retry
      }
    });
  }

  function listPage(rows) {
    rows.forEach(function (row) {
      const stateCell = row.querySelector('[data-field="state"]');
      const reasonCell = row.querySelector('[data-field="reason"]');
      follow(row.dataset.liveTransfer, 0, function (line) {
        stateCell.replaceChildren(badge(line.state));
        reasonCell.textContent = line.reason;
        row.dataset.state = line.state;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    const main = document.querySelector("main");
    TERMINAL = new Set((main.dataset.terminalStates || "").split(",").filter(Boolean));
    const article = document.getElementById("transfer");
    if (article && article.dataset.stream) transferPage(article);
    const rows = document.querySelectorAll("[data-live-transfer]");
    if (rows.length) listPage(Array.from(rows));
  });
})();
