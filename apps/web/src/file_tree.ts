import { type FilesystemReader, ROOT_INO } from "@bigfile/ext3fs";
import { downloadFile } from "./download_file.ts";
import { formatBytes } from "./format_bytes.ts";

/** What the tree reports back to the page. */
export interface FileTreeHooks {
  /** A directory could not be listed or a file could not be read. */
  onError(message: string): void;
  /** Something was read from the image (to refresh the byte counter). */
  onRead(): void;
}

/**
 * The filesystem's tree as nested `<details>`: a directory's entries are read
 * only when it is opened, so a large tree costs what the user looks at.
 * Regular files have a download button.
 */
export function fileTree(
  reader: FilesystemReader,
  label: string,
  hooks: FileTreeHooks,
): HTMLElement {
  const root = directoryNode(reader, ROOT_INO, "/", "/", hooks);
  root.open = true;
  root.setAttribute("aria-label", label);
  return root;
}

function directoryNode(
  reader: FilesystemReader,
  ino: number,
  name: string,
  path: string,
  hooks: FileTreeHooks,
): HTMLDetailsElement {
  const details = document.createElement("details");
  details.dataset.path = path;
  const summary = document.createElement("summary");
  summary.textContent = name === "/" ? "/" : `${name}/`;
  details.append(summary);
  let loaded = false;
  details.addEventListener("toggle", () => {
    if (!details.open || loaded) return;
    loaded = true;
    details.setAttribute("aria-busy", "true");
    listDirectory(reader, ino, path, hooks)
      .then((list) => details.append(list))
      .catch((error: Error) => {
        loaded = false;
        hooks.onError(`Cannot list ${path}: ${error.message}`);
      })
      .finally(() => {
        details.removeAttribute("aria-busy");
        hooks.onRead();
      });
  });
  return details;
}

async function listDirectory(
  reader: FilesystemReader,
  ino: number,
  path: string,
  hooks: FileTreeHooks,
): Promise<HTMLUListElement> {
  const entries = (await reader.dirEntries(ino)).filter((e) => e.name !== "." && e.name !== "..");
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const list = document.createElement("ul");
  for (const entry of entries) {
    const item = document.createElement("li");
    const childPath = path === "/" ? `/${entry.name}` : `${path}/${entry.name}`;
    const stat = await reader.statInode(entry.ino);
    if (stat.type === "directory") {
      item.append(directoryNode(reader, entry.ino, entry.name, childPath, hooks));
    } else {
      item.dataset.path = childPath;
      const nameSpan = document.createElement("span");
      nameSpan.className = "name";
      nameSpan.textContent = entry.name;
      item.append(nameSpan);
      if (stat.type === "symlink") {
        const target = await reader.readlinkInode(entry.ino).catch(() => "?");
        item.append(` → ${target}`);
      } else if (stat.type === "file") {
        item.append(` ${formatBytes(stat.size)} `);
        item.append(downloadButton(reader, entry.ino, entry.name, childPath, hooks));
      } else {
        item.append(` (${stat.type})`);
      }
    }
    list.append(item);
  }
  return list;
}

function downloadButton(
  reader: FilesystemReader,
  ino: number,
  name: string,
  path: string,
  hooks: FileTreeHooks,
): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Download";
  button.setAttribute("aria-label", `Download ${path}`);
  button.addEventListener("click", () => {
    button.disabled = true;
    downloadFile(reader, ino, name)
      .catch((error: Error) => hooks.onError(`Cannot read ${path}: ${error.message}`))
      .finally(() => {
        button.disabled = false;
        hooks.onRead();
      });
  });
  return button;
}
