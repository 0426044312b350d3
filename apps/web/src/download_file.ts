import type { FilesystemReader } from "@bigfile/ext3fs";

/**
 * The contents of inode `ino` as a Blob, built chunk by chunk: each chunk
 * (at most 4 MiB) is handed to the browser's blob store and dropped, so the
 * page never holds the whole file in its own memory.
 */
export async function fileBlob(reader: FilesystemReader, ino: number): Promise<Blob> {
  let blob = new Blob([], { type: "application/octet-stream" });
  for await (const chunk of reader.fileChunks(ino)) {
    // Chunks may be views of one shared buffer: the Blob constructor copies them.
    blob = new Blob([blob, chunk as Uint8Array<ArrayBuffer>], { type: blob.type });
  }
  return blob;
}

/** Offers inode `ino` as a download named `name`, through an object URL. */
export async function downloadFile(
  reader: FilesystemReader,
  ino: number,
  name: string,
): Promise<void> {
  const url = URL.createObjectURL(await fileBlob(reader, ino));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started from the URL; give it time before releasing the blob.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
