// runform serve: the little script the pages use. Plain JavaScript, no libraries, nothing loaded from elsewhere.
"use strict";

// Dates default to today on this device's clock (the server may be in another time zone).
function localToday() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

// Forms that delete or erase ask first (inline handlers are not allowed by the pages' security policy).
function confirmForms() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// The upload form sends the clip with a progress bar, then follows the server to the new session's page.
function uploadWithProgress() {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const button = document.getElementById("upload");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const clip = document.getElementById("clip").files[0];
    const maxBytes = Number(form.dataset.maxBytes);
    if (clip && maxBytes && clip.size > maxBytes) {
      status.textContent = `The clip is ${(clip.size / 1e6).toFixed(0)} MB, over this clinic's upload limit of ` +
        `${(maxBytes / 1e6).toFixed(0)} MB: trim it to the running (10 to 30 seconds are enough).`;
      status.className = "error";
      return;
    }
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", (progress) => {
      if (!progress.lengthComputable) return;
      bar.hidden = false;
      bar.value = (100 * progress.loaded) / progress.total;
      const mb = (bytes) => (bytes / 1e6).toFixed(1);
      status.textContent = `Uploading: ${mb(progress.loaded)} of ${mb(progress.total)} MB`;
    });
    request.upload.addEventListener("load", () => {
      status.textContent = "Uploaded; checking the clip…";
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300 && request.responseURL) {
        window.location.assign(request.responseURL);
      } else {
        // The server's page says what went wrong (a refused clip, a full disk); show it as it is.
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.addEventListener("error", () => {
      status.textContent = "The upload failed: the connection to the clinic PC was lost. Try again.";
      button.disabled = false;
    });
    button.disabled = true;
    request.send(new FormData(form));
  });
}

// The session page follows its analysis: frames done of total; reloads when the report or the video is ready.
function followJob() {
  const job = document.getElementById("job");
  if (!job || job.dataset.state === "failed" || (job.dataset.state === "done")) return;
  const poll = async () => {
    try {
      const response = await fetch(job.dataset.statusUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const status = await response.json();
      const text = document.getElementById("job-status");
      const bar = document.getElementById("job-progress");
      if (text) text.textContent = status.status_text;
      if (bar && status.frames_total > 0) {
        bar.max = status.frames_total;
        bar.value = status.frames_done;
      }
      const changed = String(status.report_ready) !== job.dataset.report ||
        String(status.overlay_ready) !== job.dataset.overlay || status.state !== job.dataset.state;
      if (changed) {
        window.location.reload();
        return;
      }
    } catch (error) {
      // The server may be restarting; keep asking.
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[type=date][data-today]")) {
    input.value = localToday();
  }
  confirmForms();
  uploadWithProgress();
  followJob();
});
