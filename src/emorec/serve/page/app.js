"use strict";
// The page of `emorec serve`: photos and webcam frames go to POST /v1/predict on this server.
const $ = (id) => document.getElementById(id);
const state = { webcam: null, timer: null, busy: false };

function headers(type) {
  const h = { "Content-Type": type };
  const token = $("token").value;
  if (token) h.Authorization = "Bearer " + token;
  return h;
}

const PHOTOS_AT_ONCE = 2; // photos in flight at once: a dropped folder does not flood the server
const BUSY_RETRIES = 5; // a busy server (503) is asked again after its Retry-After, this often

const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

async function predict(blob, retries = BUSY_RETRIES) {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch("/v1/predict", { method: "POST", body: blob, headers: headers(blob.type || "application/octet-stream") });
    if (response.status === 503 && attempt < retries) {
      await sleep(1000 * Number(response.headers.get("Retry-After") || 1));
      continue;
    }
    const answer = await response.json();
    if (response.status === 401) $("token-label").hidden = false;
    if (!response.ok) throw new Error(answer.error || response.statusText);
    $("json").textContent = JSON.stringify(answer, null, 2);
    return answer;
  }
}

function draw(canvas, source, answer) {
  canvas.width = answer.width;
  canvas.height = answer.height;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(source, 0, 0, answer.width, answer.height);
  const line = Math.max(2, Math.round(answer.width / 300));
  ctx.lineWidth = line;
  ctx.font = `${8 * line}px system-ui, sans-serif`;
  answer.faces.forEach((face, i) => {
    const [x, y, w, h] = face.box;
    ctx.strokeStyle = "#2a6fdb";
    ctx.strokeRect(x, y, w, h);
    const text = `${i + 1}. ${face.label} ${(face.score * 100).toFixed(0)}%`;
    ctx.fillStyle = "#2a6fdb";
    ctx.fillRect(x, Math.max(0, y - 10 * line), ctx.measureText(text).width + 2 * line, 10 * line);
    ctx.fillStyle = "#fff";
    ctx.fillText(text, x + line, Math.max(8 * line, y - 2 * line));
  });
}

function list(element, answer) {
  element.replaceChildren();
  if (!answer.faces.length) {
    element.append(Object.assign(document.createElement("p"), { textContent: "No face found." }));
  }
  answer.faces.forEach((face) => {
    const item = document.createElement("li");
    item.append(Object.assign(document.createElement("strong"), { textContent: face.label }));
    answer.labels.forEach((label) => {
      const p = face.probabilities[label];
      const bar = document.createElement("div");
      bar.className = "bar";
      const fill = Object.assign(document.createElement("span"), { className: "fill" });
      fill.style.width = `${Math.round(p * 150)}px`;
      bar.append(Object.assign(document.createElement("span"), { textContent: label }), fill,
        Object.assign(document.createElement("span"), { textContent: `${(p * 100).toFixed(1)}%` }));
      item.append(bar);
    });
    element.append(item);
  });
}

function resultBox() {
  const box = Object.assign(document.createElement("div"), { className: "result" });
  box.append(document.createElement("canvas"), Object.assign(document.createElement("ol"), { className: "faces" }));
  $("results").prepend(box);
  return box;
}

async function photo(file, box) {
  const [canvas, faces] = box.children;
  try {
    const answer = await predict(file);
    const image = await createImageBitmap(file);
    draw(canvas, image, answer);
    list(faces, answer);
    box.dataset.faces = answer.faces.length;
  } catch (error) {
    box.dataset.error = error.message;
    faces.replaceChildren(Object.assign(document.createElement("p"), { className: "error", textContent: `${file.name}: ${error.message}` }));
  }
}

async function photos(files) {
  const queue = [...files].map((file) => [file, resultBox()]);
  const total = queue.length;
  let done = 0;
  $("status").textContent = `${total} photo(s) sent`;
  const worker = async () => {
    while (queue.length) {
      await photo(...queue.shift());
      done += 1;
      $("status").textContent = `${done} of ${total} photo(s) done`;
    }
  };
  await Promise.all(Array.from({ length: PHOTOS_AT_ONCE }, worker));
}

async function frame() {
  if (state.busy || !state.webcam) return; // one frame in flight
  const video = $("video");
  if (!video.videoWidth) return;
  state.busy = true;
  const grab = document.createElement("canvas");
  grab.width = video.videoWidth;
  grab.height = video.videoHeight;
  grab.getContext("2d").drawImage(video, 0, 0);
  const stream = state.webcam;
  try {
    const blob = await new Promise((done) => grab.toBlob(done, "image/jpeg", 0.85));
    const answer = await predict(blob, 0); // busy: this frame is dropped, the next one tries
    if (state.webcam !== stream) return; // stopped (or restarted) while this frame was out
    draw($("live-canvas"), grab, answer);
    list($("live-faces"), answer);
    $("live").dataset.frames = String(Number($("live").dataset.frames || 0) + 1);
    $("status").textContent = "webcam: live";
  } catch (error) {
    if (state.webcam === stream) $("status").textContent = `webcam: ${error.message}`;
  } finally {
    state.busy = false;
  }
}

async function toggleWebcam() {
  const button = $("webcam");
  if (state.webcam) {
    clearInterval(state.timer);
    state.webcam.getTracks().forEach((t) => t.stop());
    state.webcam = null;
    button.textContent = "Start webcam";
    button.setAttribute("aria-pressed", "false");
    $("live").hidden = true;
    $("status").textContent = "webcam: stopped";
    return;
  }
  try {
    state.webcam = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  } catch (error) {
    $("status").textContent = `webcam: ${error.message}`;
    return;
  }
  const video = $("video");
  video.srcObject = state.webcam;
  await video.play();
  button.textContent = "Stop webcam";
  button.setAttribute("aria-pressed", "true");
  $("live").hidden = false;
  state.timer = setInterval(frame, 200); // up to 5 frames a second, one in flight
}

async function showModel() {
  try {
    const response = await fetch("/v1/models", { headers: headers("application/json") });
    if (response.status === 401) {
      $("token-label").hidden = false;
      $("status").textContent = "This server needs its token: enter it above.";
      return;
    }
    const models = await response.json();
    $("model").textContent = `Model ${models.model}: ${models.labels.join(", ")}`;
    $("status").textContent = "";
  } catch (error) {
    $("status").textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); photos(e.dataTransfer.files); });
  $("pick").addEventListener("change", (e) => { photos(e.target.files); e.target.value = ""; });
  $("webcam").addEventListener("click", toggleWebcam);
  $("token").addEventListener("change", showModel);
  showModel();
});
