// The page: pick or drop a disk image, read it through a BlobDevice (slices of
// the File, never the whole of it), and show what `bigfile inspect` shows.
import { BlobDevice } from "@bigfile/blockdev";
import { fileTree } from "./file_tree.ts";
import { formatBytes } from "./format_bytes.ts";
import { inspectDisk } from "./inspect_disk.ts";
import { openDiskImage } from "./open_disk_image.ts";
import { renderReport } from "./render_report.ts";

/** What the page exposes for tests and the curious: the bytes it has read. */
export interface PageCounters {
  bytesRead: number;
  reads: number;
}

declare global {
  interface Window {
    bigfileWeb: PageCounters;
  }
}

function byId<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`The page has no #${id}`);
  return node as T;
}

const input = byId<HTMLInputElement>("image");
const dropZone = byId<HTMLElement>("drop-zone");
const errorLine = byId<HTMLElement>("error");
const status = byId<HTMLElement>("status");
const output = byId<HTMLElement>("report");
const counter = byId<HTMLElement>("bytes-read");

let device: BlobDevice | undefined;
window.bigfileWeb = { bytesRead: 0, reads: 0 };

function refreshCounter(): void {
  window.bigfileWeb = { bytesRead: device?.bytesRead ?? 0, reads: device?.reads ?? 0 };
  counter.textContent = `${formatBytes(window.bigfileWeb.bytesRead)} in ${window.bigfileWeb.reads} reads`;
}

function showError(message: string): void {
  errorLine.textContent = message;
  errorLine.hidden = false;
}

async function open(file: File): Promise<void> {
  document.body.dataset.state = "loading";
  errorLine.hidden = true;
  output.replaceChildren();
  status.textContent = `Reading ${file.name}…`;
  await device?.close();
  const current = new BlobDevice(file);
  device = current;
  // Another image chosen meanwhile closes this one: its results and errors are dropped.
  const superseded = () => device !== current;
  try {
    const { disk, format } = await openDiskImage(current);
    const report = await inspectDisk(disk);
    if (superseded()) return;
    output.append(...renderReport(report, file.name, format));
    const trees = document.createElement("section");
    trees.id = "files";
    trees.setAttribute("aria-labelledby", "files-title");
    const title = document.createElement("h2");
    title.id = "files-title";
    title.textContent = "Files";
    trees.append(title);
    for (const volume of report.volumes) {
      if (!volume.reader) continue;
      const name = volume.number === 0 ? "the whole disk" : `partition ${volume.number}`;
      const heading = document.createElement("h3");
      heading.textContent = `${volume.filesystem?.type ?? "ext"} on ${name}`;
      const tree = fileTree(volume.reader, `Files of ${name}`, {
        onError: showError,
        onRead: refreshCounter,
      });
      tree.dataset.partition = String(volume.number);
      trees.append(heading, tree);
    }
    if (trees.childElementCount === 1) trees.append("No filesystem to browse.");
    output.append(trees);
    status.textContent = `${file.name}: ${formatBytes(file.size)}`;
    document.body.dataset.state = "ready";
  } catch (error) {
    if (superseded()) return;
    status.textContent = "";
    showError(`Cannot read ${file.name}: ${(error as Error).message}`);
    document.body.dataset.state = "error";
  } finally {
    refreshCounter();
  }
}

input.addEventListener("change", () => {
  const file = input.files?.[0];
  if (file) void open(file);
});
// The whole page takes a dropped image (a drop elsewhere would make the browser open the file).
for (const type of ["dragenter", "dragover"] as const) {
  document.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add("dragging");
  });
}
document.addEventListener("dragleave", (event) => {
  if (event.relatedTarget === null) dropZone.classList.remove("dragging");
});
document.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("dragging");
  const file = event.dataTransfer?.files[0];
  if (file) void open(file);
});
document.body.dataset.state = "idle";
