/** How reports name a volume: `partition N`, or `the whole disk` for number 0. */
export function volumeName(partition: number): string {
  return partition === 0 ? "the whole disk" : `partition ${partition}`;
}
