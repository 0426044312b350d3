/** `4141875200 bytes (3.9 GiB)`: exact bytes, and a binary size for people. */
export function formatBytes(bytes: number): string {
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const exact = `${bytes} ${bytes === 1 ? "byte" : "bytes"}`;
  return unit < 0 ? exact : `${exact} (${Math.round(value * 10) / 10} ${units[unit]})`;
}
